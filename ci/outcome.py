#!/usr/bin/env python3
"""Names what a nightly results.json means and exits with it, so every CI runs the same
judgement: 0 all as expected, 2 regression (an expected pass hung, or another miss),
3 no longer reproduces (an expected hang did not happen), 4 undecided (more runs needed).
A file that cannot be read is a harness failure: 1. Usage: ci/outcome.py RESULTS.json"""
import json
import sys

HARNESS_FAILURE, REGRESSION, NO_LONGER_REPRODUCES, UNDECIDED = 1, 2, 3, 4


def main(path):
    try:
        with open(path) as f:
            results = json.load(f)
        totals = results["totals"]
    except (OSError, ValueError, KeyError) as e:
        print(f"nightly: HARNESS FAILURE: cannot read {path}: {e}")
        return HARNESS_FAILURE
    if not results.get("complete", False):
        print(f"nightly: HARNESS FAILURE: {path} is from an incomplete run")
        return HARNESS_FAILURE
    for cell in results["cells"]:
        if cell.get("miss"):
            print(f"nightly: {cell['miss'].upper()}: {cell['key']}: {cell['why']}")
    regressions = totals.get("regressions", 0) + totals.get("other_misses", 0)
    if regressions:
        print(f"nightly: REGRESSION: {regressions} cells missed (see summary.md)")
        return REGRESSION
    if totals.get("no_longer_reproduces", 0):
        print(f"nightly: NO LONGER REPRODUCES: {totals['no_longer_reproduces']} expected hangs did not happen "
              "(fixed upstream? see summary.md)")
        return NO_LONGER_REPRODUCES
    if totals.get("undecided", 0):
        print(f"nightly: UNDECIDED: {totals['undecided']} cells need more runs")
        return UNDECIDED
    print(f"nightly: OK: {totals['met']} cells met, {totals.get('not_applicable', 0)} not applicable")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: ci/outcome.py RESULTS.json", file=sys.stderr)
        sys.exit(HARNESS_FAILURE)
    sys.exit(main(sys.argv[1]))
