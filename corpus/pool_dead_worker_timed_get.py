# Hang: the same dead Pool worker (bpo-22393), waited for with the widely copied map_async(...).get(9999999) idiom.
# Seen in: https://stackoverflow.com/questions/1408356/keyboard-interrupts-with-pythons-multiprocessing-pool (accepted answer: use a huge get() timeout so Ctrl-C works) combined with https://github.com/python/cpython/issues/66587.
#
# Mechanism: as in pool_dead_worker.py, the task's worker dies and its result never
# comes. But the main thread now waits with a deadline 115 days away: a timed futex
# wait (sem_clockwait), which by itself will wake up one day. The run is hung for any
# practical purpose, while nothing in the tree is an untimed wait only.
import multiprocessing
import os


def die(_):
    os._exit(1)


if __name__ == "__main__":
    with multiprocessing.Pool(1) as pool:
        results = pool.map_async(die, range(1)).get(9999999)  # the idiom; never returns
    print("not reached")
