# Reproduces: a forked child blocking forever on a logging handler's private lock, held at fork by a thread in its sink.
# Seen in: Parsl #1659 and #3373 (logging locks inherited by forked worker processes).
import argparse
import logging
import multiprocessing
import os
import sys
import threading
import time

LOGGER = "hangar.handler_private_lock"


def mark(what):
    # os.write, not sys.stderr: one write(2) that no inherited stream lock can hold up.
    os.write(2, f"HANGAR-MARK: {what}\n".encode())


class SlowSinkHandler(logging.Handler):
    """Writes records to stderr through a sink that takes `latency` seconds per record."""

    def __init__(self, latency):
        super().__init__()
        # Made here, not by createLock(): logging's at-fork hook re-initialises only the
        # locks createLock() made, so a forked child inherits this one as it was.
        self.sink_lock = threading.Lock()
        self.latency = latency
        self.in_sink = threading.Event()

    def emit(self, record):
        line = self.format(record) + "\n"
        with self.sink_lock:
            self.in_sink.set()
            # Stands in for a slow sink (a remote collector, a disk under pressure) and
            # widens the window in which the lock is held, so the child starts inside it.
            time.sleep(self.latency)
            os.write(2, line.encode())


def configure(latency):
    logger = logging.getLogger(LOGGER)
    handler = SlowSinkHandler(latency)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger, handler


def child():
    mark("child: logging one line")
    logger = logging.getLogger(LOGGER)
    # A fresh interpreter (spawn, forkserver) has no handler yet and needs no slow sink;
    # a forked child has the parent's handler, with the parent's sink lock.
    if not logger.handlers:
        configure(latency=0)
    logger.info("child: logged one line")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--method", required=True, choices=["fork", "spawn", "forkserver"])
    args = parser.parse_args()
    context = multiprocessing.get_context(args.method)

    logger, handler = configure(latency=1)
    writer = threading.Thread(target=logger.info, args=("parent: a record for the slow sink",))
    writer.start()
    handler.in_sink.wait()

    mark("parent: a thread holds the handler's sink lock; starting the child")
    process = context.Process(target=child)
    process.start()
    process.join()
    mark(f"parent: child ended with exit code {process.exitcode}")

    writer.join()
    return 0 if process.exitcode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
