#!/usr/bin/python3
"""What the start-up hook adds to `python3 -c pass`.

Launches /usr/bin/python3 -c pass N times in each configuration, interleaved so that
machine noise hits all alike, and prints the median wall time of a launch and the median
import time of `sitecustomize` as `-X importtime` reports it (Debian's own sitecustomize
included in every row; with the hook it is chained from ours).

    /usr/bin/python3 python/bench_startup.py [N]
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PYTHON = "/usr/bin/python3"
HOOK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "startup")


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "HANGAR_"))}
    with tempfile.TemporaryDirectory() as work:
        events = os.path.join(work, "events.jsonl")
        no_pyc = os.path.join(work, "startup")          # a copy that can never keep a .pyc
        shutil.copytree(HOOK, no_pyc, ignore=shutil.ignore_patterns("__pycache__"))
        subprocess.run([PYTHON, "-m", "compileall", "-q", HOOK], check=True)
        configs = {
            "no hook": dict(base),
            "hook, variables unset": dict(base, PYTHONPATH=HOOK),
            "hook, events file": dict(base, PYTHONPATH=HOOK, HANGAR_EVENTS_FILE=events),
            "hook, events + spawn": dict(base, PYTHONPATH=HOOK, HANGAR_EVENTS_FILE=events,
                                         HANGAR_START_METHOD="spawn"),
            "hook, events + spawn, no .pyc": dict(base, PYTHONPATH=no_pyc, HANGAR_EVENTS_FILE=events,
                                                  HANGAR_START_METHOD="spawn",
                                                  PYTHONDONTWRITEBYTECODE="1"),
        }
        wall = {name: [] for name in configs}
        site = {name: [] for name in configs}
        for _ in range(runs):
            for name, env in configs.items():
                start = time.perf_counter()
                subprocess.run([PYTHON, "-c", "pass"], env=env, check=True)
                wall[name].append(time.perf_counter() - start)
                err = subprocess.run([PYTHON, "-X", "importtime", "-c", "pass"], env=env,
                                     check=True, capture_output=True, text=True).stderr
                mine = [line for line in err.splitlines() if line.rstrip().endswith("| sitecustomize")
                        or line.rstrip().endswith("|   sitecustomize")]
                site[name].append(int(mine[-1].split("|")[1]) if mine else 0)
            if os.path.exists(events):
                os.unlink(events)
    plain = statistics.median(wall["no hook"])
    print("%-32s %12s %10s %18s" % ("configuration (%d runs each)" % runs, "launch, ms",
                                     "added, ms", "sitecustomize, us"))
    for name in configs:
        median = statistics.median(wall[name])
        print("%-32s %12.2f %10.2f %18d" % (name, median * 1e3, (median - plain) * 1e3,
                                             statistics.median(site[name])))


if __name__ == "__main__":
    main()
