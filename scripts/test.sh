#!/usr/bin/env bash
# Every test: the harness's unit tests (label `unit`) and one test per scenario variant x
# start method (label `hang`). Extra arguments go to ctest, e.g. `scripts/test.sh -L hang`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
cd build
# Most hang tests spend their time waiting on a hung tree, not on a core.
ctest --output-on-failure -j "$(( $(nproc) * 2 ))" "$@"
