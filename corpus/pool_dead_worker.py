# Hang: multiprocessing.Pool waits forever for the result of a task whose worker process died.
# Seen in: cpython gh-66587 / bpo-22393 "multiprocessing.Pool shouldn't hang forever if a worker process dies unexpectedly" (https://github.com/python/cpython/issues/66587); PR #10441 (a proposed fix) tests it with os._exit in a task.
#
# Mechanism (checked in /proc and with eu-stack on CPython 3.11): the worker exits
# mid-task (os._exit, as when the OOM killer takes it). The pool's worker-handler thread
# sees it go, starts a replacement and forgets the task, so its result never comes.
# The main thread waits in ApplyResult.get() on an Event (untimed futex); the
# worker-handler polls the workers' sentinels with no timeout (since Python 3.8 it no
# longer sleeps 0.1 s in a loop), the task and result handlers wait untimed on a
# queue and a pipe, and the new worker waits in read() for a task. Every wait untimed,
# but no process has all its threads on futexes.
import multiprocessing
import os


def die(_):
    os._exit(1)


if __name__ == "__main__":
    with multiprocessing.Pool(1) as pool:
        pool.apply(die, (0,))  # never returns
    print("not reached")
