# Healthy: a child blocked in Connection.recv() on a pipe whose writer, the parent, sleeps 2 s and then sends.
# Seen in: Python docs, multiprocessing "Exchanging objects between processes" > Pipes, and Connection.recv ("Blocks until there is something to receive") (https://docs.python.org/3/library/multiprocessing.html#exchanging-objects-between-processes).
#
# While it waits, the child sits in an untimed read() and the parent in a timed sleep
# (the sleep stands for the parent's work before it hands out the task). Then the
# parent sends, the child answers and exits, and the parent joins it. Must pass.
import multiprocessing as mp
import time


def worker(conn):
    task = conn.recv()  # blocks about 2 s
    conn.send(task * 2)


if __name__ == "__main__":
    parent_end, child_end = mp.Pipe()
    p = mp.Process(target=worker, args=(child_end,))
    p.start()
    time.sleep(2)
    parent_end.send(21)
    print("answer", parent_end.recv())
    p.join()
    print("child exit code", p.exitcode)
