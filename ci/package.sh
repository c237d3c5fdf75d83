#!/usr/bin/env bash
# Builds hangar and its Debian package (cpack -G DEB) into OUT, for machines that install it
# instead of building (ci/github/scenarios.yml builds it once and shares it with its shards).
#   ci/package.sh OUT
set -euo pipefail
out=${1:?usage: ci/package.sh OUT}
case "$out" in /*) ;; *) out=$PWD/$out ;; esac
cd "$(dirname "$0")/.."
scripts/build.sh > /dev/null
cpack -G DEB --config build/CPackConfig.cmake -B "$out" > /dev/null
rm -rf "$out/_CPack_Packages"
ls "$out"/*.deb
