# Healthy: the docs' fix for "Joining processes that use queues": get() before join(); the worker answers 2 s late.
# Seen in: Python docs, multiprocessing "Programming guidelines" > "Joining processes that use queues" ("A fix here would be to swap the last two lines round") (https://docs.python.org/3/library/multiprocessing.html#multiprocessing-programming).
#
# The twin of mp_queue_join.py. The parent blocks in read() on the queue's pipe for
# 2 s while the live child sleeps (the sleep stands for work), then the child's feeder
# thread writes the 1 MB object, the parent reads it all, and join() returns. An
# untimed read answered late by a live process: must pass.
import multiprocessing as mp
import time


def f(q):
    time.sleep(2)
    q.put("X" * 1000000)


if __name__ == "__main__":
    queue = mp.Queue()
    p = mp.Process(target=f, args=(queue,))
    p.start()
    obj = queue.get()  # blocks about 2 s
    p.join()
    print("got", len(obj), "bytes; child exit code", p.exitcode)
