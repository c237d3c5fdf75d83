#!/usr/bin/env bash
# hangar installed and used from another project (label `install`): installs this build
# into a temporary prefix; checks that nothing installed names the source or the build
# folder; runs the installed hangar (list --where, list, run with --hazards, check); builds
# examples/your-project, copied away, against the installed CMake package and runs its
# `ctest -L hang` and `hangar run`, with the source and build folders hidden (a private
# mount namespace puts empty folders over them) where the machine allows; and checks that
# the package's commands stop a bad configuration with a message naming the caller's file.
#   tests/install_test.sh SOURCE-DIR BUILD-DIR
set -euo pipefail
src=$(realpath "${1:?usage: install_test.sh SOURCE-DIR BUILD-DIR}")
build=$(realpath "${2:?usage: install_test.sh SOURCE-DIR BUILD-DIR}")
work=$(mktemp -d "${TMPDIR:-/tmp}/hangar-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
cd "$work"

fail() { echo "install: FAIL: $*"; exit 1; }
step() { echo "install: $(date +%s.%N | cut -c1-14) $*"; }

step "cmake --install into $prefix"
cmake --install "$build" --prefix "$prefix" > install.log || { cat install.log; fail "cmake --install failed"; }
for f in bin/hangar lib/hangar/libhangar_forkwatch.so lib/hangar/scenarios/logger_mutex \
         lib/hangar/scenarios/logger_mutex-tsan lib/hangar/scenarios/logger_mutex-asan \
         lib/hangar/scenarios/libnss_hangarslow.so.2 share/hangar/python/startup/sitecustomize.py \
         share/hangar/python/hangar_check.py share/hangar/scenarios/logging-lock/manifest.toml \
         share/hangar/scenarios/README.md share/hangar/scenario-support/start_method.hpp \
         lib/cmake/hangar/hangarConfig.cmake lib/cmake/hangar/hangarConfigVersion.cmake \
         lib/cmake/hangar/HangarScenarios.cmake share/doc/hangar/README.md; do
  [ -e "$prefix/$f" ] || fail "not installed: $f"
done

step "nothing installed names $src or $build"
if named=$(grep -rlF -e "$src" -e "$build" "$prefix"); then
  for f in $named; do grep -aoF -e "$src" -e "$build" "$f" | sort | uniq -c | sed "s|^|  $f: |"; done
  fail "installed files name the source or build folder"
fi

hangar=$prefix/bin/hangar
step "hangar list --where: every path under the prefix"
"$hangar" list --where > where.txt || { cat where.txt; fail "hangar list --where failed"; }
grep -q "^layout        installed, found by $prefix/share/hangar$" where.txt || { cat where.txt; fail "not the installed layout"; }
for key in scenarios scenario-bin forkwatch python cmake; do
  grep -Eq "^$key +$prefix/[^ ]+$" where.txt || { cat where.txt; fail "$key is not a path under $prefix"; }
done

# Hides the source and build folders from the command given, when unprivileged (or root's)
# user and mount namespaces are there; otherwise runs it as it is, and says so.
hidden() {
  local mounts="mount -t tmpfs hangar-hidden \"\$1\""
  [ "${build#"$src"/}" = "$build" ] && mounts="$mounts && mount -t tmpfs hangar-hidden \"\$2\""
  case "$work/" in "$src"/*|"$build"/*) "${@:3}"; return ;; esac
  if unshare --user --map-root-user --mount true 2>/dev/null; then
    unshare --user --map-root-user --mount sh -c "$mounts && shift 2 && exec \"\$@\"" sh "$src" "$build" "${@:3}"
  else
    "${@:3}"
  fi
}
if unshare --user --map-root-user --mount true 2>/dev/null; then
  step "the source and build folders are hidden from what follows"
  hidden "$src" "$build" sh -c '[ -z "$(ls -A "$1")" ]' sh "$src" || fail "could not hide $src"
else
  step "no user namespaces here: the source and build folders stay visible (the path check above still holds)"
fi

step "hangar list and run, from the install"
hidden "$src" "$build" "$hangar" list > list.txt || { cat list.txt; fail "hangar list failed"; }
grep -q "logger-mutex (native)" list.txt || fail "hangar list does not list logging-lock/logger-mutex"
hidden "$src" "$build" "$hangar" run logging-lock/logger-mutex logging-lock/stream-buffer --method fork,spawn \
  --hazards --timeout 5 --out runs -q > run.txt 2>&1 || { cat run.txt; fail "hangar run missed or failed"; }
grep -q "4 cells met, 0 missed" run.txt || { cat run.txt; fail "hangar run: not 4 cells met"; }
printf 'import multiprocessing\npool = multiprocessing.Pool(2)\n' > flow.py
set +e
hidden "$src" "$build" "$hangar" check flow.py > check.txt 2>&1
status=$?
set -e
[ "$status" = 1 ] && grep -q "flow.py:2:" check.txt || { cat check.txt; fail "hangar check: exit $status"; }

step "examples/your-project, copied away, configured and built against the installed package"
cp -r "$src/examples/your-project" your-project
rm -rf your-project/build
# As ci/github/scenarios.yml builds a caller's native scenarios.
HANGAR_PREFIX=$prefix "$src/ci/build-scenarios.sh" your-project your-build > your-build.log 2>&1 ||
  { cat your-build.log; fail "the example did not configure and build"; }

step "its ctest -L hang"
hidden "$src" "$build" ctest --test-dir your-build -L hang -j 2 --output-on-failure > your-ctest.txt 2>&1 ||
  { cat your-ctest.txt; fail "the example's ctest -L hang failed"; }
grep -q "100% tests passed, 0 tests failed out of 6" your-ctest.txt || { cat your-ctest.txt; fail "not 6 tests passed"; }
grep -q "hang:held-lock/cpp-mutex:fork" your-ctest.txt || fail "no test hang:held-lock/cpp-mutex:fork"
ls your-build/hangar-out/held-lock/cpp-mutex/fork/latest/results.json > /dev/null || fail "no reports under your-build/hangar-out"

step "its hangar run"
hidden "$src" "$build" "$hangar" --scenarios your-project/scenarios --scenario-bin your-build/hangar-scenario-bin \
  run --hazards --timeout 5 --out your-runs -q > your-run.txt 2>&1 || { cat your-run.txt; fail "hangar run on the example"; }
grep -q "6 cells met, 0 missed" your-run.txt || { cat your-run.txt; fail "the example: not 6 cells met"; }

step "the steps of ci/github/scenarios.yml on it: two shards, then the merge with history and job summary"
for k in 1 2; do
  CI=true "$src/ci/nightly.sh" --hangar "$hangar" --scenarios your-project/scenarios \
    --scenario-bin your-build/hangar-scenario-bin --sanitizers none --shard "$k/2" --run-id install-test \
    --out "shards/scenarios-shard-$k" > "shard-$k.log" 2>&1 || "$src/ci/shard-status.sh" $? >> "shard-$k.log" ||
    { cat "shard-$k.log"; fail "shard $k/2"; }
done
GITHUB_STEP_SUMMARY=$work/step-summary.md HANGAR=$hangar HISTORY=history.jsonl \
  "$src/ci/nightly-merge.sh" merged shards/scenarios-shard-* > merge.log 2>&1 || { cat merge.log; fail "the merge"; }
grep -q "nightly: OK: 6 cells met" merge.log || { cat merge.log; fail "the merge: not 6 cells met"; }
grep -q "held-lock/cpp-mutex" step-summary.md || fail "summary.md did not reach the job summary"
[ "$(wc -l < history.jsonl)" = 1 ] || fail "no history line"

step "bad configurations stop with a message naming the caller's file"
bad() {  # NAME SCENARIOS-ARGS EXPECTED
  mkdir -p "$1"
  printf 'cmake_minimum_required(VERSION 3.25)\nproject(bad NONE)\nfind_package(hangar CONFIG REQUIRED)\nhangar_add_scenario_tests(%s)\n' \
    "$2" > "$1/CMakeLists.txt"
  if cmake -S "$1" -B "$1/build" -DCMAKE_PREFIX_PATH="$prefix" > "$1.log" 2>&1; then fail "$1: configured"; fi
  tr -s ' \n' ' ' < "$1.log" > "$1.flat"
  grep -qF "$1/CMakeLists.txt" "$1.flat" || { cat "$1.log"; fail "$1: the message does not name the file"; }
  grep -qF "$3" "$1.flat" || { cat "$1.log"; fail "$1: the message does not say '$3'"; }
}
bad no-scenarios "TIMEOUT 5" "SCENARIOS <dir> is required"
mkdir -p no-manifest/scenarios/not-a-family
bad no-manifest "SCENARIOS scenarios" "holds no scenario family"
mkdir -p no-variant/scenarios/fam
printf 'family = "fam"\ndescription = "none"\n' > no-variant/scenarios/fam/manifest.toml
bad no-variant "SCENARIOS scenarios" "manifest.toml:1: the manifest needs at least one [[variant]]"
bad bad-method "SCENARIOS $work/your-project/scenarios METHODS vfork" "METHODS 'vfork' is not one of fork, spawn, forkserver"

step "ok"
