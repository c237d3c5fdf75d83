#!/usr/bin/env bash
# The nightly job: the full matrix (every scenario variant x start method x sanitizer),
# more runs for stochastic variants, fork hazards checked, all reports and the history in
# one dated folder.
#
#   ci/nightly.sh [--quick] [--out DIR] [--shard K/N] [--run-id ID] [--hangar PATH]
#                 [--scenarios DIR] [--scenario-bin DIR] [--sanitizers LIST] [-- HANGAR-RUN-ARGS...]
#
#   --quick        a small version: no sanitizer builds, manifests' own repeats
#   --out DIR      where dated folders go (default: nightly-out in this repository); DIR/history.jsonl
#                  grows by one line a night (with --shard, the merge adds it instead)
#   --shard K/N    run only every N-th cell from the K-th (merge with ci/nightly-merge.sh)
#   --run-id ID    shared by the shards of one night, so the merge can tell them from
#                  another night's (default: nightly-<date>)
#   --hangar PATH  use this hangar binary (an installed one, say) instead of building one
#   --scenarios DIR, --scenario-bin DIR
#                  another project's scenario families and their native programs
#                  (default: hangar's own; ci/github/scenarios.yml passes a project's)
#   --sanitizers LIST  the builds to run native variants as (default: none,tsan,asan; --quick: none)
# Paths are taken from the folder it is started in.
#
# Exit status (also printed, and named in summary.md):
#   0 all as expected   1 harness failure   2 regression (an expected pass hung, or another miss)
#   3 no longer reproduces (an expected hang did not happen)   4 undecided (more runs needed)
set -uo pipefail

quick=0 out=nightly-out shard= run_id= hangar= scenarios= scenario_bin= sanitizers= extra=()
here=$PWD
abs() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s' "$here/$1" ;; esac; }
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --out) out=$(abs "${2:?--out needs a folder}"); shift ;;
    --shard) shard=${2:?--shard needs K/N}; shift ;;
    --run-id) run_id=${2:?--run-id needs an id}; shift ;;
    --hangar) hangar=$(abs "${2:?--hangar needs a path}"); shift ;;
    --scenarios) scenarios=$(abs "${2:?--scenarios needs a folder}"); shift ;;
    --scenario-bin) scenario_bin=$(abs "${2:?--scenario-bin needs a folder}"); shift ;;
    --sanitizers) sanitizers=${2:?--sanitizers needs a list: none,tsan,asan}; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "nightly: unknown option '$1' (see ci/nightly.sh --help)" >&2; exit 1 ;;
  esac
  shift
done

cd "$(dirname "$0")/.."

harness_failure() { echo "nightly: HARNESS FAILURE: $*"; exit 1; }

if [ -z "$hangar" ]; then
  scripts/build.sh >/dev/null || harness_failure "the build failed (run scripts/build.sh to see why)"
  hangar=build/hangar
fi
[ -x "$hangar" ] || harness_failure "no hangar binary at $hangar"

day=$(date -u +%Y-%m-%d)
dir="$out/$day${shard:+/shard-${shard%/*}}"
mkdir -p "$dir" || harness_failure "cannot create $dir"

args=()
[ -n "$scenarios" ] && args+=(--scenarios "$scenarios")
[ -n "$scenario_bin" ] && args+=(--scenario-bin "$scenario_bin")
args+=(run --out "$dir/runs" --json "$dir/results.json" --run-id "${run_id:-nightly-$day}" --hazards)
# A shard's cells are part of a night: the merge records the night in the history.
[ -z "$shard" ] && args+=(--history "$out/history.jsonl")
if [ "$quick" = 1 ]; then
  args+=(--sanitizer "${sanitizers:-none}")
else
  args+=(--sanitizer "${sanitizers:-none,tsan,asan}" --stochastic-repeat 100)
fi
[ -n "$shard" ] && args+=(--shard "$shard")
[ "${CI:-}" = true ] && args+=(--quiet)

echo "nightly: $hangar ${args[*]} ${extra[*]}"
"$hangar" "${args[@]}" "${extra[@]}"
status=$?
# hangar: 0 all met, 1 some missed; anything else means it could not do its job.
[ "$status" -le 1 ] || harness_failure "hangar run exited $status"
latest=$(readlink -f "$dir/runs/latest")
for f in results.json junit.xml summary.md report.html; do
  [ -s "$latest/$f" ] || harness_failure "hangar wrote no $f"
  cp "$latest/$f" "$dir/$f"
done
echo "nightly: reports in $dir"
python3 ci/outcome.py "$dir/results.json"
