#!/usr/bin/env bash
# Benchmark (not a test): what libhangar_forkwatch.so costs programs that lock and unlock
# all the time. Targets: (a) two threads locking one pthread_mutex_t under 20% slower,
# (b) CPython acquiring and releasing a threading.Lock under 5% slower.
# Each case runs RUNS times (default 11) with and without LD_PRELOAD (HANGAR_EVENTS_FILE
# set, so the library is on), alternating, and compares the medians and the minimums of
# the process wall time. On a shared machine the minimum is the steadier figure (noise only
# ever adds time); `uptime` is printed so the load is on record.
# Usage: preload/bench/forkwatch_bench.sh [RUNS]   (after building hangar_forkwatch and lock_loop)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-11}
lib=$PWD/build/lib/libhangar_forkwatch.so
loop=$PWD/build/preload/bench/lock_loop
python=/usr/bin/python3
for f in "$lib" "$loop"; do
  [ -e "$f" ] || { echo "missing $f: cmake --build build --target hangar_forkwatch lock_loop" >&2; exit 2; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pylock='
import threading
lock = threading.Lock()
def work():
    for _ in range(1_500_000):
        with lock:
            pass
threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads: t.start()
for t in threads: t.join()
'

# Wall time of one run in seconds.
wall() {
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}

median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

measure() {  # name, on|off, command...   (off: preloaded without HANGAR_EVENTS_FILE)
  local name=$1 mode=$2; shift 2
  local events=(HANGAR_EVENTS_FILE="$tmp/events.jsonl")
  [ "$mode" = off ] && events=()
  : >"$tmp/plain"; : >"$tmp/preloaded"
  for _ in $(seq "$runs"); do
    # Both through env(1), so its exec is on both sides.
    wall env -u LD_PRELOAD -u HANGAR_EVENTS_FILE "$@" >>"$tmp/plain"
    wall env -u HANGAR_EVENTS_FILE LD_PRELOAD="$lib" "${events[@]}" "$@" >>"$tmp/preloaded"
  done
  local plain preloaded plain_min preloaded_min
  plain=$(median <"$tmp/plain")
  preloaded=$(median <"$tmp/preloaded")
  plain_min=$(sort -g "$tmp/plain" | head -1)
  preloaded_min=$(sort -g "$tmp/preloaded" | head -1)
  printf '%-44s %8.3f s %8.3f s %+7.1f%%   %8.3f s %8.3f s %+7.1f%%\n' "$name" \
    "$plain" "$preloaded" "$(echo "($preloaded - $plain) * 100 / $plain" | bc -l)" \
    "$plain_min" "$preloaded_min" "$(echo "($preloaded_min - $plain_min) * 100 / $plain_min" | bc -l)"
}

echo "$runs runs each, $(nproc) cores, load:$(uptime | sed 's/.*load average://'); wall time per process"
printf '%-44s %10s %10s %8s   %10s %10s %8s\n' case "median" "preloaded" "" "min" "preloaded" ""
measure "(a) 2 threads x 10M lock/unlock, one mutex" on "$loop" shared 10000000
measure "    2 threads x 10M lock/unlock, own mutexes" on "$loop" private 10000000
measure "    same, library off (interposition only)" off "$loop" private 10000000
measure "(b) python3: 2 threads x 1.5M 'with Lock'" on "$python" -c "$pylock"
measure "    python3 -c pass (start-up only)" on "$python" -c pass
# Instructions per lock/unlock pair (valgrind's count: the same on a busy machine).
if command -v valgrind >/dev/null; then
  instructions() {  # iterations per thread, env...
    local n=$1; shift
    env "$@" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$loop" private "$n" 2>&1 |
      awk '/Collected/ {print $4}'
  }
  per_pair() {  # env...: difference between two lengths, so start-up cancels out
    local a b
    a=$(instructions 100000 "$@")
    b=$(instructions 200000 "$@")
    echo $(( (b - a) / 200000 ))
  }
  plain_i=$(per_pair)
  on_i=$(per_pair LD_PRELOAD="$lib" HANGAR_EVENTS_FILE="$tmp/events.jsonl")
  echo "instructions per lock+unlock pair (valgrind): $plain_i plain, $on_i preloaded"
fi
if [ -s "$tmp/events.jsonl" ]; then
  echo "note: the runs wrote records: $(wc -l <"$tmp/events.jsonl")" >&2
fi
