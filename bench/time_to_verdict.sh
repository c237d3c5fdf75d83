#!/usr/bin/env bash
# Benchmark (not a test): how soon stall detection ends the deterministic fork deadlocks,
# against the timeout a timeout-only harness would wait. Target: median < 500 ms with a
# 30 s timeout. Usage: bench/time_to_verdict.sh [RUNS_PER_VARIANT] (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
timeout=30
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
variants=(logging-lock/stream-buffer logging-lock/handler-private-lock logging-lock/logger-mutex
          nss-lock/nss-module nss-lock/getpwent)
build/hangar run "${variants[@]}" --method fork --repeat "$runs" --timeout "$timeout" \
  --out "$out/hangar-out" --json "$out/r.json" --quiet >/dev/null || true
python3 - "$out/r.json" "$timeout" <<'PY'
import json, statistics, sys
results, timeout = json.load(open(sys.argv[1])), float(sys.argv[2])
print(f"{'variant':38} {'runs':>4} {'deadlock':>8} {'onset->verdict p50':>18} {'max':>6} {'run wall p50':>12}  timeout-only")
every = []
for c in results["cells"]:
    ttv = [r["time_to_verdict_ms"] for r in c["runs"] if r["verdict"] == "deadlock"]
    wall = [r["seconds"] for r in c["runs"]]
    every += ttv
    p50 = f"{statistics.median(ttv):.0f} ms" if ttv else "-"
    mx = f"{max(ttv):.0f}" if ttv else "-"
    print(f"{c['scenario'] + '/' + c['variant']:38} {len(c['runs']):>4} {len(ttv):>8} {p50:>18} {mx:>6} "
          f"{statistics.median(wall):>10.2f} s  {timeout:.0f} s")
if every:
    print(f"all deadlocks: n={len(every)}, median onset->verdict {statistics.median(every):.0f} ms "
          f"(target < 500 ms), vs {timeout:.0f} s for a timeout-only harness")
PY
