#!/usr/bin/env bash
# Installs the Debian packages hangar needs, and only those that are missing; prints
# nothing when everything is already there. Safe to run again and again.
set -euo pipefail

packages=(
  cmake ninja-build g++            # the build
  libcli11-dev                     # hangar's command line
  nlohmann-json3-dev               # the results JSON
  libtomlplusplus-dev              # scenario manifests
  libgtest-dev libgmock-dev        # unit tests
  libbenchmark-dev                 # bench/process_bench
  python3                          # the Python scenarios (real CPython)
  bc                               # arithmetic in the benchmark scripts
  libxml2-utils                    # xmllint: junit.xml validated against reports/junit.xsd in the tests
  python3-yaml                     # the nightly workflow file checked as YAML in the tests
  chromium fonts-liberation        # report.html opened headless in the tests: screenshot, console
  elfutils gdb libc6-dbg           # native stacks of hung processes, glibc frames named
  rr                               # --rr recordings, where the CPU exposes performance counters
  python3-joblib python3-distributed  # python/tests run real joblib and dask programs under the hook, not stand-ins
  dpkg-dev file                    # cpack -G DEB: dpkg-shlibdeps (and file, to find ELF files) name the .deb's Depends
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo=(sudo); else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >/dev/null
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
