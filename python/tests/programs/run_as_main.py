# A runner, as workflow tools have: runs the script named by its first argument as __main__
# through runpy, with that script's own command line in sys.argv.
import runpy
import sys

if __name__ == "__main__":
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")
