#!/usr/bin/env bash
# The shard numbers of a matrix split over N machines, as a JSON list for a GitHub Actions
# matrix: `shards=[1,2,...,N]` appended to $GITHUB_OUTPUT (and printed).
#   ci/shard-list.sh N      (1 <= N <= 64)
set -euo pipefail
n=${1:?usage: ci/shard-list.sh N}
[[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 64 ] || { echo "shard-list: '$n' is not a number of shards from 1 to 64" >&2; exit 2; }
list=$(seq -s, 1 "$n")
echo "shards=[$list]"
[ -n "${GITHUB_OUTPUT:-}" ] && echo "shards=[$list]" >> "$GITHUB_OUTPUT"
exit 0
