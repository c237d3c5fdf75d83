#!/usr/bin/env bash
# ci/nightly.sh names each outcome and exits with it: checked on stand-in scenarios built
# to pass, to regress (an expected pass hangs), to stop reproducing (an expected hang
# passes), and on a harness that cannot run at all.
#   tests/nightly_outcomes.sh HANGAR FIXTURE-SCENARIOS FIXTURE-BIN
set -uo pipefail
hangar=$1 scenarios=$2 bin=$3
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0 passes=0

expect() {  # NAME EXPECTED-STATUS EXPECTED-WORD VARIANT-OR-ARGS...
  local name=$1 want=$2 word=$3
  shift 3
  CI=true "$root/ci/nightly.sh" --quick --out "$work/$name" --hangar "$hangar" -- \
    --scenarios "$scenarios" --scenario-bin "$bin" --timeout 2 "$@" > "$work/$name.log" 2>&1
  local got=$?
  if [ "$got" != "$want" ] || ! grep -q "nightly: $word" "$work/$name.log"; then
    echo "FAIL $name: exit $got (want $want), output:"; sed 's/^/  /' "$work/$name.log"
    failures=$((failures + 1))
    return
  fi
  if [ "$want" != 1 ]; then
    for f in results.json junit.xml summary.md report.html; do
      [ -s "$work/$name/$(date -u +%Y-%m-%d)/$f" ] || { echo "FAIL $name: no $f"; failures=$((failures + 1)); }
    done
    [ -s "$work/$name/history.jsonl" ] || { echo "FAIL $name: no history line"; failures=$((failures + 1)); }
  fi
  echo "ok   $name: exit $got, '$word'"
  passes=$((passes + 1))
}

expect ok 0 "OK" fixture/passes
expect regression 2 "REGRESSION" fixture/passes fixture/pass-expected-but-hangs
expect no-longer-reproduces 3 "NO LONGER REPRODUCES" fixture/hang-expected-but-passes
expect harness-failure 1 "HARNESS FAILURE" --scenarios "$work/no-such-folder" fixture/passes
grep -q "## Regressions: an expected pass hung" "$work/regression/$(date -u +%Y-%m-%d)/summary.md" ||
  { echo "FAIL regression: summary.md does not name it"; failures=$((failures + 1)); }
grep -q "## No longer reproduces" "$work/no-longer-reproduces/$(date -u +%Y-%m-%d)/summary.md" ||
  { echo "FAIL no-longer-reproduces: summary.md does not name it"; failures=$((failures + 1)); }

# Shards merged by ci/nightly-merge.sh give what one machine gives.
for k in 1 2; do
  CI=true "$root/ci/nightly.sh" --quick --shard "$k/2" --out "$work/shards/$k" --hangar "$hangar" -- \
    --scenarios "$scenarios" --scenario-bin "$bin" --timeout 2 fixture/passes fixture/starts-twice > /dev/null 2>&1
done
HANGAR=$hangar HISTORY="$work/history.jsonl" "$root/ci/nightly-merge.sh" "$work/merged" "$work/shards/1" "$work/shards/2" \
  > "$work/merge.log" 2>&1
got=$?
if [ "$got" != 0 ] || ! grep -q '"met": 3' "$work/merged/results.json" || [ "$(wc -l < "$work/history.jsonl")" != 1 ]; then
  echo "FAIL merge: exit $got"; sed 's/^/  /' "$work/merge.log"; failures=$((failures + 1))
else
  echo "ok   merge: 2 shards, 3 cells met, one history line"
  passes=$((passes + 1))
fi

echo "$passes passed, $failures failed"
[ "$failures" = 0 ]
