#!/usr/bin/env bash
# The main job: every scenario variant under fork, spawn and forkserver, compared in one
# table, with results and evidence under hangar-out/latest/. Extra arguments go to
# `hangar run`, e.g. `scripts/run-comparison.sh nss-lock --repeat 20`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
exec build/hangar run "$@"
