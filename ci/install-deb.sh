#!/usr/bin/env bash
# Installs hangar's .deb from FOLDER with apt (its Depends, and its Recommends: the stack
# tools of hang evidence), and with --build-tools what a project needs to build its native
# scenarios against the CMake package (cmake, ninja-build, g++).
#   ci/install-deb.sh FOLDER [--build-tools]
set -euo pipefail
folder=${1:?usage: ci/install-deb.sh FOLDER [--build-tools]}
debs=("$(realpath "$folder")"/*.deb)
[ -f "${debs[0]}" ] || { echo "install-deb: no .deb in $folder" >&2; exit 1; }
extra=()
[ "${2:-}" = --build-tools ] && extra=(cmake ninja-build g++)
sudo=()
[ "$(id -u)" -ne 0 ] && sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq > /dev/null
"${sudo[@]}" apt-get install -y -qq "${debs[@]}" "${extra[@]}" > /dev/null
hangar list --where
