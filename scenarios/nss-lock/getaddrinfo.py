# Reproduces: a child started while other threads resolve names hangs in getaddrinfo on glibc's __check_pf lock.
# Seen in: openpbs PR #2299 (getaddrinfo lock inherited by a child) and Parsl issue #2343 (NSS lock in a forked process).
"""Threads resolve "localhost" with AI_ADDRCONFIG in a loop; the main thread starts one child
at a random moment and the child resolves too.

AI_ADDRCONFIG makes glibc ask the kernel for the host's addresses in __check_pf
(sysdeps/unix/sysv/linux/check_pf.c), a netlink round trip made under a static lock
that fork() does not reset. If a resolver thread holds it at the fork, the child's
getaddrinfo waits forever on the copy. socket.getaddrinfo() without flags does not
reach __check_pf, hence the explicit flag. Stochastic: one run starts one child, so
one run is one verdict.
"""
import argparse
import multiprocessing
import random
import socket
import sys
import threading
import time

RESOLVER_THREADS = 2


def resolve():
    return socket.getaddrinfo("localhost", 80, flags=socket.AI_ADDRCONFIG)


def mark(what):
    print(f"HANGAR-MARK: {what}", file=sys.stderr, flush=True)


def child():
    mark("child resolving localhost with AI_ADDRCONFIG")
    resolve()
    mark("child resolved")


def resolver(stop, resolved_once):
    try:
        while not stop.is_set():
            resolve()
            resolved_once.set()
    finally:
        resolved_once.set()   # also on an error, which the child's own resolution repeats


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--method", required=True, choices=["fork", "spawn", "forkserver"])
    args = parser.parse_args()
    ctx = multiprocessing.get_context(args.method)

    stop = threading.Event()
    resolved_once = [threading.Event() for _ in range(RESOLVER_THREADS)]
    threads = [threading.Thread(target=resolver, args=(stop, event))
               for event in resolved_once]
    for t in threads:
        t.start()
    for event in resolved_once:   # every thread is inside its loop
        event.wait()
    # A random delay, so that the fork lands at a different point of the threads' loops
    # from run to run; the lock is held for a large share of each resolution.
    time.sleep(random.uniform(0.01, 0.1))

    mark(f"starting the child ({args.method}) while {RESOLVER_THREADS} threads resolve")
    process = ctx.Process(target=child)
    process.start()
    stop.set()   # the parent goes quiet; only the child's fate is left to decide the run
    for t in threads:
        t.join()
    process.join()
    mark(f"child exited with {process.exitcode}")
    return 0 if process.exitcode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
