#!/bin/sh
# check_html.sh REPORT.html OUT.png: opens a report in Debian's headless chromium, offline,
# and fails (exit 1, saying which) when the page logs a console error or an uncaught
# exception, when the screenshot is missing or empty, or when the rendered DOM lacks the
# totals line. Exit 77 (CTest's skip) when chromium is not installed; 2 for bad usage.
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 REPORT.html OUT.png" >&2
    exit 2
fi
report=$1
png=$2
chromium=/usr/bin/chromium
if [ ! -x "$chromium" ]; then
    echo "chromium not installed"
    exit 77
fi
if [ ! -s "$report" ]; then
    echo "FAIL: no report at $report"
    exit 1
fi
case $report in /*) ;; *) report=$(pwd)/$report ;; esac
case $png in /*) ;; *) png=$(pwd)/$png ;; esac

work=$(mktemp -d)
# Every chromium below runs in its own process group (setsid), killed as a whole after
# it returns, so that no renderer or zygote outlives the check. Its crash handler starts a
# session of its own; with HOME in $work, its command line names $work, and the sweep
# below ends whatever still does.
pgids=""
sweep() {
    for cmdline in /proc/[0-9]*/cmdline; do
        pid=${cmdline#/proc/}
        pid=${pid%/cmdline}
        [ "$pid" = $$ ] && continue
        if tr '\0' ' ' 2>/dev/null <"$cmdline" | grep -qF -- "$work/"; then kill -KILL "$pid" 2>/dev/null; fi
    done
}
cleanup() {
    for g in $pgids; do kill -KILL -- "-$g" 2>/dev/null; done
    sweep
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# chromium ARGS... : runs it (time-limited, offline, a fresh profile) with stdout and
# stderr in $work/out and $work/err; returns its status.
run_chromium() {
    profile=$(mktemp -d "$work/profile.XXXXXX")
    HOME=$work XDG_CONFIG_HOME=$work/config XDG_CACHE_HOME=$work/cache \
        setsid timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" --window-size=1400,2000 "$@" \
        >"$work/out" 2>"$work/err" &
    pid=$!
    pgids="$pgids $pid"
    wait "$pid"
    rc=$?
    kill -KILL -- "-$pid" 2>/dev/null
    return $rc
}

status=0
fail() {
    echo "FAIL: $*"
    status=1
}

rm -f "$png"
run_chromium --screenshot="$png" "file://$report"
rc=$?
[ $rc -eq 124 ] && fail "chromium --screenshot ran past 60 s"
if [ -s "$png" ] && [ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then
    echo "ok: screenshot $png ($(wc -c <"$png") bytes, PNG)"
else
    fail "no screenshot, or an empty or non-PNG one, at $png (chromium exit $rc): $(tail -n 3 "$work/err")"
fi

run_chromium --enable-logging=stderr --v=0 --virtual-time-budget=5000 --dump-dom "file://$report"
rc=$?
[ $rc -eq 124 ] && fail "chromium --dump-dom ran past 60 s"
# The page has no script: any console message at all is a fault.
if grep -Eq 'CONSOLE|Uncaught' "$work/err"; then
    fail "console messages from the page:"
    grep -E 'CONSOLE|Uncaught' "$work/err" | head -n 5
else
    echo "ok: no console error or uncaught exception"
fi
if grep -q 'id="totals"' "$work/out" && grep -Eq '[0-9]+</span> met' "$work/out" &&
    grep -Eq '[0-9]+</span> missed' "$work/out"; then
    echo "ok: the rendered DOM holds the totals line: $(grep -o 'id="totals".*' "$work/out" | sed 's/<[^>]*>//g; s/^id="totals">//' | head -n 1)"
else
    fail "the rendered DOM ($(wc -c <"$work/out") bytes, chromium exit $rc) lacks the totals line"
fi
if grep -Eq '<(script|link|img|iframe)[^>]*(src|href)="?https?:' "$work/out"; then
    fail "the page references something on the network"
else
    echo "ok: nothing fetched from the network"
fi
exit $status
