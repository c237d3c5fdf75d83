# Reproduces: a forked child blocking forever on a threading.Lock another thread held at fork.
# Seen in: Python programs that start multiprocessing children (fork, Linux's default before 3.14) beside worker threads.
import argparse
import multiprocessing
import sys
import threading
import time

# Module level: a spawn or forkserver child imports this file afresh and gets its own, unlocked.
CACHE_LOCK = threading.Lock()


def mark(what):
    sys.stderr.write(f"HANGAR-MARK: {what}\n")
    sys.stderr.flush()


def child():
    mark("child: taking the cache lock")
    with CACHE_LOCK:
        mark("child: took the cache lock")


def hold(held):
    with CACHE_LOCK:
        held.set()
        time.sleep(0.3)  # widens the window: the child starts while the lock is held


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--method", required=True, choices=["fork", "spawn", "forkserver"])
    method = parser.parse_args().method
    held = threading.Event()
    worker = threading.Thread(target=hold, args=(held,))
    worker.start()
    held.wait()
    mark("parent: a thread holds the cache lock; starting the child")
    process = multiprocessing.get_context(method).Process(target=child)
    process.start()
    process.join()  # no timeout: a hung child keeps the parent waiting too
    worker.join()
    sys.exit(0 if process.exitcode == 0 else 1)


if __name__ == "__main__":
    main()
