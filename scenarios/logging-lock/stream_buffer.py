# Reproduces: a forked child's first log call blocking forever in StreamHandler.flush on the stream's BufferedWriter lock.
# Seen in: Ansible PR #79522 (the stdout BufferedWriter lock across fork; CPython's fix bpo-46210 was never merged).
import argparse
import fcntl
import logging
import multiprocessing
import os
import sys
import termios
import threading
import time

LOGGER = "hangar.stream_buffer"


def mark(what):
    # os.write, not sys.stderr: one write(2) that no inherited stream lock can hold up.
    os.write(2, f"HANGAR-MARK: {what}\n".encode())


def configure(stream):
    logger = logging.getLogger(LOGGER)
    logger.addHandler(logging.StreamHandler(stream))
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def child():
    mark("child: logging one line")
    logger = logging.getLogger(LOGGER)
    # A fresh interpreter (spawn, forkserver) has no handler yet; a forked child has the
    # parent's, with the parent's stream and its lock.
    if not logger.handlers:
        configure(sys.stderr)
    logger.info("child: logged one line")


def drain(fd):
    # A stalled reader: the sleep keeps the pipe full for a second, so the writer stays
    # blocked in write() holding the lock while the child is started (widens the window).
    time.sleep(1)
    while os.read(fd, 65536):
        pass


def wait_until_full(fd, capacity):
    # A full pipe with more of the record still unwritten means the writer is blocked in
    # write() inside BufferedWriter, holding its lock: no guessing with sleeps.
    pending = bytearray(4)
    while True:
        fcntl.ioctl(fd, termios.FIONREAD, pending)
        if int.from_bytes(pending, sys.byteorder) >= capacity:
            return
        time.sleep(0.001)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--method", required=True, choices=["fork", "spawn", "forkserver"])
    args = parser.parse_args()
    context = multiprocessing.get_context(args.method)

    read_fd, write_fd = os.pipe()
    capacity = fcntl.fcntl(read_fd, fcntl.F_GETPIPE_SZ)
    # A normal buffered text stream: TextIOWrapper over io.BufferedWriter, whose lock
    # is the one a forked child inherits.
    stream = open(write_fd, "w")
    logger = configure(stream)

    reader = threading.Thread(target=drain, args=(read_fd,))
    reader.start()
    # Bigger than the pipe, so the write cannot finish until the reader drains.
    writer = threading.Thread(target=logger.info, args=("x" * (2 * capacity),))
    writer.start()
    wait_until_full(read_fd, capacity)

    mark("parent: a thread is blocked in write() holding the stream's lock; starting the child")
    process = context.Process(target=child)
    process.start()
    process.join()
    mark(f"parent: child ended with exit code {process.exitcode}")

    writer.join()
    logger.handlers[0].close()
    stream.close()
    reader.join()
    return 0 if process.exitcode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
