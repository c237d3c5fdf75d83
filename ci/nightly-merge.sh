#!/usr/bin/env bash
# Merges the shards of a nightly matrix (each a folder holding results.json, from
# ci/nightly.sh --shard K/N) into one set of reports, and exits as ci/nightly.sh would.
#   ci/nightly-merge.sh OUT SHARD-DIR...
# HANGAR=path picks the binary (default: build one); HISTORY=file gets this night's line
# and feeds the trend view in report.html.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: ci/nightly-merge.sh OUT SHARD-DIR...}
shift
[ $# -gt 0 ] || { echo "nightly: HARNESS FAILURE: no shard folders given"; exit 1; }
hangar=${HANGAR:-}
if [ -z "$hangar" ]; then
  scripts/build.sh >/dev/null || { echo "nightly: HARNESS FAILURE: the build failed"; exit 1; }
  hangar=build/hangar
fi
inputs=()
for d in "$@"; do
  found=$(find "$d" -name results.json -not -path '*/runs/*' | head -1)
  [ -n "$found" ] || { echo "nightly: HARNESS FAILURE: no results.json under $d (did that shard run?)"; exit 1; }
  inputs+=("$found")
done
history=()
[ -n "${HISTORY:-}" ] && history=(--history "$HISTORY" --append-history)
"$hangar" report "${inputs[@]}" --out "$out" "${history[@]}"
[ $? -le 1 ] || { echo "nightly: HARNESS FAILURE: hangar report failed"; exit 1; }
[ -n "${GITHUB_STEP_SUMMARY:-}" ] && cat "$out/summary.md" >> "$GITHUB_STEP_SUMMARY"
python3 ci/outcome.py "$out/results.json"
