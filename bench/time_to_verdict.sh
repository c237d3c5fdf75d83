#!/usr/bin/env bash
# Benchmark (not a test): how soon stall detection ends proven hangs, against the timeout a
# timeout-only harness would wait, and how often it calls a healthy program hung.
#
#   1. The deterministic fork deadlocks of scenarios/: target median < 500 ms.
#   2. Each class of hang the wait-for graph proves (bench/scenarios/graph: pipe cycles, a
#      lock-pipe cycle, a mutex held across fork, deadlines past the run's limit, a socket
#      peer stuck, a SIGALRM handler with no alarm, a GIL waiter whose holder is stuck):
#      target median onset-to-verdict < 300 ms for each; and their healthy twins (a late
#      writer, a poll or timed lock that expires and acts, a watchdog, alarms, SO_RCVTIMEO,
#      a process-shared lock released late, a GIL holder answered late): target 0 false
#      verdicts, over at least 200 runs of them, two at a time.
#
# Usage: bench/time_to_verdict.sh [RUNS_PER_VARIANT] [RUNS_PER_TWIN] (defaults 10 and 20).
# Needs the build: cmake --build build (hangar, the scenarios, tests/tree_maker).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
twin_runs=${2:-20}
timeout=30
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
variants=(logging-lock/stream-buffer logging-lock/handler-private-lock logging-lock/logger-mutex
          nss-lock/nss-module nss-lock/getpwent)
build/hangar run "${variants[@]}" --method fork --repeat "$runs" --timeout "$timeout" \
  --out "$out/hangar-out" --json "$out/r.json" --quiet >/dev/null || true

graph=(--scenarios bench/scenarios --scenario-bin build/tests)
hangs=(graph/pipe-cycle graph/lock-pipe-cycle graph/owner-across-fork graph/poll-past-limit
       graph/timed-lock-past-limit graph/socket-peer-stuck graph/alarm-handler-unarmed graph/gil-holder-stuck graph/file-lock-cycle)
twins=(graph/sleeping-writer graph/late-answer graph/poll-then-act graph/watchdog-restart graph/alarm-lock
       graph/alarm-kill graph/rcvtimeo graph/timed-lock graph/shared-lock graph/gil-holder-late graph/file-lock-released)
# One at a time, so that one run's alarm does not hold up another's verdict.
build/hangar "${graph[@]}" run "${hangs[@]}" --repeat "$runs" --timeout "$timeout" -j 1 \
  --out "$out/graph-out" --json "$out/hangs.json" --quiet >/dev/null || true
build/hangar "${graph[@]}" run "${twins[@]}" --repeat "$twin_runs" --timeout "$timeout" -j 2 \
  --out "$out/twins-out" --json "$out/twins.json" --quiet >/dev/null || true

python3 - "$out/r.json" "$out/hangs.json" "$out/twins.json" "$timeout" <<'PY'
import json, statistics, sys
scenarios, hangs, twins = (json.load(open(f)) for f in sys.argv[1:4])
timeout = float(sys.argv[4])

def table(results, title, target):
    # "proven": a deadlock, or a timeout proven before the limit (a run that can only outlast it).
    print(f"{title:38} {'runs':>4} {'proven':>8} {'onset->verdict p50':>18} {'max':>6} {'run wall p50':>12}  timeout-only")
    every = []
    for c in results["cells"]:
        ttv = [r["time_to_verdict_ms"] for r in c["runs"]
               if r["verdict"] == "deadlock" or (r["verdict"] == "timeout" and r["seconds"] < timeout - 1)]
        wall = [r["seconds"] for r in c["runs"]]
        every += ttv
        p50 = f"{statistics.median(ttv):.0f} ms" if ttv else "-"
        mx = f"{max(ttv):.0f}" if ttv else "-"
        print(f"{c['scenario'] + '/' + c['variant']:38} {len(c['runs']):>4} {len(ttv):>8} {p50:>18} {mx:>6} "
              f"{statistics.median(wall):>10.2f} s  {timeout:.0f} s")
    if every:
        print(f"all proven: n={len(every)}, median onset->verdict {statistics.median(every):.0f} ms "
              f"(target < {target} ms), vs {timeout:.0f} s for a timeout-only harness")
    print()

table(scenarios, "variant (scenarios/, fork)", 500)
table(hangs, "hang class (bench/scenarios/graph)", 300)
print(f"{'healthy twin':38} {'runs':>4} {'pass':>5} {'false verdicts':>14} {'run wall p50':>12}")
total = false = 0
for c in twins["cells"]:
    verdicts = [r["verdict"] for r in c["runs"]]
    wrong = sum(v in ("deadlock", "timeout") for v in verdicts)
    total += len(verdicts)
    false += wrong
    wall = statistics.median(r["seconds"] for r in c["runs"])
    print(f"{c['scenario'] + '/' + c['variant']:38} {len(verdicts):>4} {verdicts.count('pass'):>5} {wrong:>14} "
          f"{wall:>10.2f} s")
print(f"healthy twins: {total} runs, {false} false verdicts (target 0)")
PY
