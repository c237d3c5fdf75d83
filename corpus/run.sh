#!/usr/bin/env bash
# Runs the hang corpus (corpus.tsv) under `hangar exec` and prints one row per entry:
# its class, the verdicts that are correct, hangar's verdict, the run's seconds, the
# time to verdict and the hang signature.
#
#   corpus/run.sh HANGAR_BINARY [--timeout S] [NAME...]
#
# Python entries run on $HANGAR_PYTHON (default /usr/bin/python3); native entries are
# taken from $CORPUS_BIN (default: the corpus/ folder beside HANGAR_BINARY, where
# `cmake --build build --target corpus` puts them). Each run's reports go to
# $CORPUS_OUT/NAME (default: a new folder under /tmp, printed at the end).
#
# Exit status: 0 when every healthy entry passed and every hang entry was called a hang
# (deadlock or timeout); 1 otherwise, or when an entry could not be run; 2 bad usage.
# A healthy entry called a hang is a false verdict, the worst outcome: it is printed
# loudly at the end.
set -uo pipefail

usage() {
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -ge 1 ] || usage
case $1 in -h | --help) usage ;; esac
hangar=$(realpath -e "$1" 2>/dev/null) || { echo "run.sh: no hangar binary at $1" >&2; exit 2; }
shift
timeout=20
names=()
while [ $# -gt 0 ]; do
  case $1 in
    --timeout) [ $# -ge 2 ] || usage; timeout=$2; shift 2 ;;
    --timeout=*) timeout=${1#--timeout=}; shift ;;
    -h | --help) usage ;;
    -*) echo "run.sh: unknown option $1" >&2; usage ;;
    *) names+=("$1"); shift ;;
  esac
done
[[ $timeout =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "run.sh: --timeout wants seconds, got $timeout" >&2; exit 2; }

python=${HANGAR_PYTHON:-/usr/bin/python3}
bindir=${CORPUS_BIN:-$(dirname "$hangar")/corpus}

# Entries, in file order, keeping only the NAMEs asked for.
entries=()
while IFS= read -r line; do
  [[ -z $line || $line == \#* || $line == name$'\t'* ]] && continue
  entries+=("$line")
done < "$here/corpus.tsv"
if [ ${#names[@]} -gt 0 ]; then
  kept=()
  for n in "${names[@]}"; do
    found=0
    for e in "${entries[@]}"; do [ "${e%%$'\t'*}" = "$n" ] && { kept+=("$e"); found=1; }; done
    [ $found = 1 ] || { echo "run.sh: no entry named $n in corpus.tsv" >&2; exit 2; }
  done
  entries=("${kept[@]}")
fi

out=${CORPUS_OUT:-$(mktemp -d /tmp/corpus-run.XXXXXX)}
mkdir -p "$out"
summary=$out/summary.tsv
printf 'name\tclass\texpect\tverdict\tseconds\tttv_s\tsignature\tjudgement\n' > "$summary"

# What one run's results.json says: verdict, seconds, time to verdict (s), signature.
read_results() {
  "$python" - "$1" <<'EOF'
import json, sys
run = json.load(open(sys.argv[1]))["cells"][0]["runs"][0]
ttv = run.get("time_to_verdict_ms")
sig = run.get("signature", "")
print(run["verdict"], "%.2f" % run["seconds"], "-" if ttv is None else "%.2f" % (ttv / 1000),
      (sig or "(none)").replace("\t", " ").replace("\n", " "), sep="\t")
EOF
}

row() { printf '%-31s %-8s %-16s %-9s %7s %6s  %s\n' "$@"; }
row name class expected verdict seconds ttv signature
false_verdicts=()
problems=()
for e in "${entries[@]}"; do
  IFS=$'\t' read -r name class _mechanism expect command _origin <<< "$e"
  read -r -a argv <<< "$command"
  case ${argv[0]} in
    python3) argv[0]=$python; argv[1]=$here/${argv[1]} ;;
    bin:*) argv[0]=$bindir/${argv[0]#bin:} ;;
  esac
  if [ ! -x "${argv[0]}" ]; then
    row "$name" "$class" "$expect" "NOT RUN" - - "missing ${argv[0]} (build: cmake --build build --target corpus)"
    problems+=("$name: not run, missing ${argv[0]}")
    continue
  fi
  rm -rf "${out:?}/$name"
  "$hangar" exec --timeout "$timeout" --out "$out/$name" -- "${argv[@]}" > "$out/$name.log" 2>&1
  rc=$?
  if [ $rc = 2 ] || [ ! -f "$out/$name/latest/results.json" ]; then
    row "$name" "$class" "$expect" "ERROR" - - "hangar exit $rc, see $out/$name.log"
    problems+=("$name: hangar exit $rc, no results ($out/$name.log)")
    continue
  fi
  results=$(read_results "$out/$name/latest/results.json")  # $(...) is waited for; <(...) is not
  IFS=$'\t' read -r verdict seconds ttv signature <<< "$results"
  judgement=ok
  if [[ "|$expect|" != *"|$verdict|"* ]]; then
    if [ "$class" = healthy ] && [[ $verdict == deadlock || $verdict == timeout ]]; then
      judgement=FALSE-HANG
      false_verdicts+=("$name (healthy, must pass) was called $verdict after ${seconds}s: $signature")
    elif [ "$class" = hang ] && [[ $verdict == pass ]]; then
      judgement=FALSE-PASS
      false_verdicts+=("$name (a real hang) was called pass after ${seconds}s")
    else
      judgement=MISS
      problems+=("$name: expected $expect, got $verdict (exit code in $out/$name.log)")
    fi
  fi
  shown=$verdict
  [ "$judgement" = ok ] || shown="$verdict!"
  row "$name" "$class" "$expect" "$shown" "$seconds" "$ttv" "$signature"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$class" "$expect" "$verdict" "$seconds" "$ttv" \
    "$signature" "$judgement" >> "$summary"
done

echo
echo "reports: $out/NAME/latest/  table: $summary"
status=0
if [ ${#problems[@]} -gt 0 ]; then
  status=1
  echo
  for p in "${problems[@]}"; do echo "NOT AS EXPECTED: $p"; done
fi
if [ ${#false_verdicts[@]} -gt 0 ]; then
  status=1
  echo
  echo "################################################################################"
  echo "###  ${#false_verdicts[@]} FALSE VERDICT(S)"
  for f in "${false_verdicts[@]}"; do echo "###  FALSE VERDICT: $f"; done
  echo "################################################################################"
fi
[ $status = 0 ] && echo "all ${#entries[@]} entries judged correctly"
exit $status
