#!/usr/bin/env bash
# Benchmark (not a test): runs per second of a do-nothing native and Python scenario under
# hangar, next to the same number of bare launches from a shell loop, so the harness's
# per-run overhead is a ratio. Target: under 10% for native runs (sequential, -j 1).
# Usage: bench/runs_per_second.sh [RUNS] (default 200).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
python=/usr/bin/python3
noop=build/bench/noop_scenario
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

seconds() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
bare_native() { for ((i = 0; i < runs; i++)); do "$noop" --method fork; done; }
bare_python() { for ((i = 0; i < runs; i++)); do "$python" bench/scenarios/trivial/noop.py --method fork; done; }
# Evidence folders on disk cost metadata writes per run; tmpfs shows the rest.
shm=/dev/shm
[ -d "$shm" ] && [ -w "$shm" ] || shm=$out
harness() {  # VARIANT JOBS OUT
  build/hangar --scenarios bench/scenarios --scenario-bin build/bench --python "$python" \
    run "trivial/$1" --repeat "$runs" -j "$2" --quiet --out "$3"
}

printf '%-8s %12s %14s %14s %16s %10s %10s\n' scenario bare-runs/s hangar-runs/s 'tmpfs out' 'tmpfs, -j nproc' overhead 'tmpfs'
for kind in native python; do
  bare=$(seconds "bare_$kind")
  disk=$(seconds harness "noop-$kind" 1 "$out/h")
  tmpfs=$(seconds harness "noop-$kind" 1 "$shm/hangar-bench-$$")
  par=$(seconds harness "noop-$kind" "$(nproc)" "$shm/hangar-bench-$$")
  rm -rf "$shm/hangar-bench-$$"
  printf '%-8s %12.1f %14.1f %14.1f %16.1f %9.1f%% %9.1f%%\n' "$kind" \
    "$(echo "$runs / $bare" | bc -l)" "$(echo "$runs / $disk" | bc -l)" "$(echo "$runs / $tmpfs" | bc -l)" \
    "$(echo "$runs / $par" | bc -l)" "$(echo "($disk - $bare) / $bare * 100" | bc -l)" \
    "$(echo "($tmpfs - $bare) / $bare * 100" | bc -l)"
done
echo "($runs runs each, sequential unless -j; overhead = hangar's time over the bare shell loop's, minus 1)"
echo "(each run creates a folder and 4 files: on tmpfs the figure is the harness's own cost;"
echo " on disk it adds what the file system charges for creating them)"
