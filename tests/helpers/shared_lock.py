# Stand-in for hangar's stall-detection tests, not a reproduction: a forked child blocks on
# a multiprocessing.Lock (a process-shared semaphore) that its parent releases later.
import multiprocessing
import sys
import time


def child(lock):
    with lock:
        pass


if __name__ == "__main__":
    ctx = multiprocessing.get_context("fork")
    lock = ctx.Lock()
    lock.acquire()
    p = ctx.Process(target=child, args=(lock,))
    p.start()
    time.sleep(float(sys.argv[1]))  # the child waits this long on the shared futex
    lock.release()
    p.join()
    sys.exit(p.exitcode)
