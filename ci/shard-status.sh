#!/usr/bin/env bash
# A shard's own misses are judged when the shards are merged; a shard step fails only when
# the harness itself failed (ci/nightly.sh exit 1), so one bad cell does not hide the rest.
#   ci/nightly.sh ... || ci/shard-status.sh $?
status=${1:?usage: ci/shard-status.sh EXIT-STATUS}
if [ "$status" = 1 ]; then
  echo "shard: harness failure"
  exit 1
fi
echo "shard: finished with status $status; judged at the merge"
exit 0
