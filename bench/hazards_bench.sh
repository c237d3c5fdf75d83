#!/usr/bin/env bash
# Benchmark (not a test): what --hazards (the fork-hazard detector and the Python hook)
# costs the scenarios, and whether it changes the races it reports. Runs the same cells with
# and without it, alternating, and prints per cell the median run time of each, the
# overhead, and the hang rates. Target: under 5% on the Python scenarios' run time; hang
# rates within each other's 95% intervals. The lock-heavy loop is preload/bench/forkwatch_bench.sh.
# Usage: bench/hazards_bench.sh [ROUNDS] [REPEAT] (default 3 rounds of 10 runs per cell).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3} repeat=${2:-10}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cells=(logging-lock/stream-buffer logging-lock/handler-private-lock logging-lock/logger-mutex
       nss-lock/getaddrinfo nss-lock/getaddrinfo-python re-import/guarded)
for ((r = 1; r <= rounds; r++)); do
  for mode in off on; do
    flag=(); [ "$mode" = on ] && flag=(--hazards)
    build/hangar run "${cells[@]}" --repeat "$repeat" -j 1 --timeout 10 "${flag[@]}" --quiet \
      --out "$out/h" --json "$out/$mode-$r.json" >/dev/null || true
  done
done
python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys, math
out, rounds = sys.argv[1], int(sys.argv[2])
runs = {}  # (key, mode) -> [seconds of passing runs], hangs, n
for mode in ("off", "on"):
    for r in range(1, rounds + 1):
        for c in json.load(open(f"{out}/{mode}-{r}.json"))["cells"]:
            e = runs.setdefault((c["key"], mode), {"t": [], "h": 0, "n": 0})
            for run in c["runs"]:
                e["n"] += 1
                if run["verdict"] in ("deadlock", "timeout"):
                    e["h"] += 1
                else:
                    e["t"].append(run["seconds"])
def wilson(k, n):
    if n == 0: return (0, 1)
    z = 1.96; p = k / n; d = 1 + z * z / n; c = (p + z * z / (2 * n)) / d
    w = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0, c - w), min(1, c + w))
print(f"{'cell':42} {'median off':>10} {'median on':>10} {'overhead':>9}   hang rate off (95% CI)   hang rate on (95% CI)")
for key in sorted({k for k, _ in runs}):
    off, on = runs[(key, "off")], runs[(key, "on")]
    mo = statistics.median(off["t"]) if off["t"] else float("nan")
    mn = statistics.median(on["t"]) if on["t"] else float("nan")
    over = (mn / mo - 1) * 100 if off["t"] and on["t"] else float("nan")
    lo, hi = wilson(off["h"], off["n"]); lo2, hi2 = wilson(on["h"], on["n"])
    print(f"{key:42} {mo:9.3f}s {mn:9.3f}s {over:+8.1f}%   {off['h']:3}/{off['n']:<3} ({lo:.2f}-{hi:.2f})"
          f"        {on['h']:3}/{on['n']:<3} ({lo2:.2f}-{hi2:.2f})")
print("run times are of the runs that passed (a hang's time is the verdict's); overhead = on/off - 1")
PY
