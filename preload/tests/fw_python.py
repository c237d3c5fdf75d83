"""fw_python.py MODE: the CPython programs the forkwatch tests run under LD_PRELOAD.

Each mode starts one threading.Thread that holds something (or waits, or holds nothing),
forks with os.fork(), and prints what the test checks the records against as key=value
lines. Threads hand over through pipes. One mode (condition-wait) has no event to wait on:
it watches /proc until the waiter is blocked in a futex, within a bound, and says so.
"""
import ctypes
import os
import sys
import threading
import time

libc = ctypes.CDLL(None, use_errno=True)
PR_SET_NAME = 15


def name_native_thread(name):
    # CPython 3.11 does not name the OS thread after Thread.name; prctl does.
    libc.prctl(PR_SET_NAME, ctypes.c_char_p(name.encode()), 0, 0, 0)


def say(**values):
    for key, value in values.items():
        print(f"{key}={value}", flush=True)


class Gate:
    def __init__(self):
        self.r, self.w = os.pipe()

    def open(self):
        os.write(self.w, b"x")

    def wait(self):
        os.read(self.r, 1)


holding, release = Gate(), Gate()


def holder(name, body):
    def run():
        name_native_thread(name)
        say(holder_tid=threading.get_native_id())
        body()
    t = threading.Thread(target=run, name=name)
    t.start()
    holding.wait()
    return t


def hold(lock):
    def body():
        with lock:
            holding.open()
            release.wait()
    return body


def hold_nothing():
    holding.open()
    release.wait()


condition = threading.Condition()


def wait_on_condition():
    with condition:
        holding.open()
        condition.wait()


def wait_until_blocked_in_futex(tid, bound=5.0):
    """The waiter has released the condition's lock and is about to block on its waiter
    lock; no event says when it is blocked, so /proc is watched (bounded)."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        with open(f"/proc/self/task/{tid}/syscall") as f:
            if f.read().split(" ", 1)[0] == "202":
                return True
        time.sleep(0.001)
    return False


def fork_and_report(child):
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            code = child()
        finally:
            os._exit(code)
    say(child=pid)
    _, status = os.waitpid(pid, 0)
    say(child_status=f"exit:{os.waitstatus_to_exitcode(status)}")


def child_exits():
    threading.Lock().acquire()  # an interposed call of the child's own
    return 0


def main():
    mode = sys.argv[1]
    locks = {"lock": threading.Lock(), "rlock": threading.RLock(), "condition-held": condition}
    inherited = threading.Lock()
    if mode in locks:
        lock = locks[mode]
        t = holder("pyholder", hold(lock))
        fork_and_report(child_exits)
    elif mode == "nothing":
        t = holder("pyidle", hold_nothing)
        fork_and_report(child_exits)
    elif mode == "condition-wait":
        t = holder("pywaiter", wait_on_condition)
        with condition:  # the waiter released it: it is inside wait()
            pass
        if not wait_until_blocked_in_futex(t.native_id):
            say(error="waiter never blocked")
            return 1
        fork_and_report(child_exits)
        with condition:
            condition.notify()
        t.join()
        return 0
    elif mode == "released-by-other":
        # threading.Lock may be released by another thread than the one that took it.
        lock = threading.Lock()
        t = holder("pyholder", lambda: (lock.acquire(), holding.open(), release.wait()))
        lock.release()
        fork_and_report(child_exits)
    elif mode == "inherited":
        t = holder("pyholder", hold(inherited))

        def child_takes_inherited():
            inherited.acquire()  # waits for a thread the child does not have
            return 3
        fork_and_report(child_takes_inherited)
    else:
        print(f"unknown mode {mode}", file=sys.stderr)
        return 2
    release.open()
    t.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
