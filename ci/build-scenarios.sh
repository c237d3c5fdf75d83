#!/usr/bin/env bash
# Configures and builds a project's CMake project (the one whose CMakeLists.txt calls
# hangar_add_native_scenario) against the installed hangar package, so its native
# scenarios are in BUILD/hangar-scenario-bin.
#   ci/build-scenarios.sh PROJECT-DIR BUILD-DIR
# HANGAR_PREFIX: where hangar is installed, if not in /usr or /usr/local.
set -euo pipefail
project=${1:?usage: ci/build-scenarios.sh PROJECT-DIR BUILD-DIR}
build=${2:?usage: ci/build-scenarios.sh PROJECT-DIR BUILD-DIR}
prefix=()
[ -n "${HANGAR_PREFIX:-}" ] && prefix=(-DCMAKE_PREFIX_PATH="$HANGAR_PREFIX")
cmake -S "$project" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${prefix[@]}"
cmake --build "$build"
