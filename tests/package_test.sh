#!/usr/bin/env bash
# The Debian package (label `install`): `cpack -G DEB` into a temporary folder, its control
# fields (Depends, Recommends), then the package unpacked with dpkg-deb -x into a
# temporary root (not installed on the system) and the hangar in it run: list --where,
# list, and one scenario under fork and spawn.
#   tests/package_test.sh SOURCE-DIR BUILD-DIR
set -euo pipefail
src=$(realpath "${1:?usage: package_test.sh SOURCE-DIR BUILD-DIR}")
build=$(realpath "${2:?usage: package_test.sh SOURCE-DIR BUILD-DIR}")
work=$(mktemp -d "${TMPDIR:-/tmp}/hangar-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

fail() { echo "package: FAIL: $*"; exit 1; }
step() { echo "package: $*"; }
for tool in cpack dpkg-deb dpkg-shlibdeps file; do
  command -v "$tool" > /dev/null || fail "$tool is missing (scripts/install-deps.sh installs it)"
done

step "cpack -G DEB"
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/out" > cpack.log 2>&1 || { cat cpack.log; fail "cpack failed"; }
debs=(out/*.deb)
[ ${#debs[@]} = 1 ] && [ -f "${debs[0]}" ] || fail "cpack made no single .deb: ${debs[*]}"
deb=${debs[0]}
step "$(basename "$deb"): $(du -h "$deb" | cut -f1)"

depends=$(dpkg-deb -f "$deb" Depends)
recommends=$(dpkg-deb -f "$deb" Recommends)
echo "  Depends: $depends"
echo "  Recommends: $recommends"
for p in python3 libc6 libstdc++6 libtsan2 libasan8; do
  [[ ", $depends," == *", $p"[\ ,]* ]] || fail "Depends lacks $p"
done
for p in elfutils gdb libc6-dbg rr; do
  [[ ", $recommends," == *", $p,"* ]] || fail "Recommends lacks $p"
done

step "dpkg-deb -x into a temporary root"
dpkg-deb -x "$deb" root
hangar=$work/root/usr/bin/hangar
[ -x "$hangar" ] || fail "no usr/bin/hangar in the package"
if grep -rlF -e "$src" -e "$build" root; then fail "packaged files name the source or build folder"; fi

"$hangar" list --where > where.txt || { cat where.txt; fail "hangar list --where"; }
grep -q "^layout        installed, found by $work/root/usr/share/hangar$" where.txt || { cat where.txt; fail "not the packaged layout"; }
grep -q "^forkwatch     $work/root/usr/lib/hangar/libhangar_forkwatch.so$" where.txt || { cat where.txt; fail "detector"; }
"$hangar" list > list.txt || { cat list.txt; fail "hangar list"; }
grep -q "nss-module (native)" list.txt || fail "hangar list does not list nss-lock/nss-module"

step "hangar run nss-lock/nss-module --method fork,spawn --hazards"
"$hangar" run nss-lock/nss-module --method fork,spawn --hazards --timeout 5 --out runs -q > run.txt 2>&1 ||
  { cat run.txt; fail "hangar run from the package"; }
cat run.txt
grep -q "2 cells met, 0 missed" run.txt || fail "not 2 cells met"
step "ok"
