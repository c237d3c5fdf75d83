# Hang: the parent join()s a multiprocessing.Process before get()ting the large object it put on a Queue.
# Seen in: Python docs, multiprocessing "Programming guidelines" > "Joining processes that use queues" (https://docs.python.org/3/library/multiprocessing.html#multiprocessing-programming); cpython gh-78321.
#
# Mechanism (checked in /proc and with eu-stack): the child's Queue feeder thread is
# blocked in write() on the queue's pipe, because 1 MB does not fit the 64 KiB pipe
# buffer; the child's main thread, exiting, joins that feeder thread (untimed futex);
# the parent sits in wait4() for the child and never reads the pipe. A cycle through
# a pipe and a process exit; nothing in it has a deadline. This is the docs' example.
import multiprocessing as mp


def f(q):
    q.put("X" * 1000000)


if __name__ == "__main__":
    queue = mp.Queue()
    p = mp.Process(target=f, args=(queue,))
    p.start()
    p.join()  # this deadlocks: the docs' fix is to get() first
    obj = queue.get()
    print("not reached")
