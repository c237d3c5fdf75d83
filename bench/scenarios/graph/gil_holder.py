# Runs the harness's test helper tests/helpers/gil_holder.py as this scenario (a manifest's
# entry stays inside its family folder): a GIL waiter whose holder is stuck, or answered late.
import os
import runpy
import sys

helper = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests", "helpers", "gil_holder.py")
sys.argv[0] = helper
runpy.run_path(helper, run_name="__main__")
