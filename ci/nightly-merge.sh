#!/usr/bin/env bash
# Merges the shards of a nightly matrix (each a folder holding results.json, from
# ci/nightly.sh --shard K/N) into one set of reports, and exits as ci/nightly.sh would.
#   ci/nightly-merge.sh OUT SHARD-DIR...
# HANGAR=path picks the binary (default: build one); HISTORY=file gets this night's line
# and feeds the trend view in report.html. Paths are taken from the folder it is started in.
set -uo pipefail
here=$PWD
abs() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s' "$here/$1" ;; esac; }
out=$(abs "${1:?usage: ci/nightly-merge.sh OUT SHARD-DIR...}")
shift
[ $# -gt 0 ] || { echo "nightly: HARNESS FAILURE: no shard folders given"; exit 1; }
shards=()
for d in "$@"; do shards+=("$(abs "$d")"); done
hangar=${HANGAR:-}
case "$hangar" in */*) hangar=$(abs "$hangar") ;; esac  # a bare name is looked up on PATH
[ -n "${HISTORY:-}" ] && HISTORY=$(abs "$HISTORY")
cd "$(dirname "$0")/.."
if [ -z "$hangar" ]; then
  scripts/build.sh >/dev/null || { echo "nightly: HARNESS FAILURE: the build failed"; exit 1; }
  hangar=build/hangar
fi
inputs=()
for d in "${shards[@]}"; do
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
