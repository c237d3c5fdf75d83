# Reproduces: unmodified user workflow scripts forced onto a start method, as a library switching its default does.
# Seen in: Parsl's "Wrapping your workflows in __main__ protection" post (2025; /work/shared/background/), Python 3.14's forkserver default.
"""Run WORKFLOW_SCRIPT as __main__ under a chosen multiprocessing start method.

The workflow scripts are plain user scripts that know nothing of hangar; this runner
sets the start method and runs the script as the main module, the way `python SCRIPT`
would, so that spawn and forkserver children re-import it exactly as they would the
user's own script (they import sys.modules["__main__"].__file__, the workflow).
"""
import argparse
import multiprocessing
import os
import runpy
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("workflow", metavar="WORKFLOW_SCRIPT",
                        help="script to run; a relative path is looked up beside this runner")
    parser.add_argument("--method", required=True, choices=["fork", "spawn", "forkserver"])
    args = parser.parse_args()

    path = args.workflow
    if not os.path.isabs(path) and not os.path.exists(path):
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), path)
    path = os.path.abspath(path)

    multiprocessing.set_start_method(args.method)
    sys.argv = [path]   # the workflow sees the command line `python WORKFLOW_SCRIPT`
    print(f"HANGAR-MARK: running {os.path.basename(path)} as __main__ under {args.method}",
          file=sys.stderr, flush=True)
    runpy.run_path(path, run_name="__main__")


if __name__ == "__main__":
    main()
