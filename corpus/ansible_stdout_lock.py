# Hang: a thread writing to sys.stdout holds its BufferedWriter lock at fork(); the forked child's first print() blocks forever.
# Seen in: ansible PR #79522 "Prevent stdio deadlock in forked children" (https://github.com/ansible/ansible/pull/79522), the cause of ansible-runner #1164; shape of its test target fork_safe_stdio (callback_plugins/spewstdio.py).
#
# PYTHONUNBUFFERED matters: this project's machines (and many container images) set it,
# and then sys.stdout has no io.BufferedWriter, so there is no lock to inherit and no
# hang. This program removes it (and -u) from its own environment by re-executing itself.
# Mechanism (checked in /proc and with eu-stack on CPython 3.11): a spew thread writes
# to stdout, a pipe whose reader stalls (ansible's test runs under a slow pty for the
# same reason), so it blocks in write() inside BufferedWriter holding the buffer's lock.
# The main thread forks at that moment (made certain: it waits until /proc shows the
# thread in write()). The child's at-fork hook prints, as ansible's test plugin does,
# and waits for that lock: an untimed private futex, with no owner in the child. The
# parent then drains the pipe and waits for the child in waitpid().
import io
import os
import sys
import threading
import time

if not isinstance(sys.stdout.buffer, io.BufferedWriter):  # PYTHONUNBUFFERED or -u
    if os.environ.get("CORPUS_REEXEC"):
        sys.exit("stdout is still unbuffered after re-exec")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env["CORPUS_REEXEC"] = "1"
    os.execve(sys.executable, [sys.executable, os.path.abspath(__file__)], env)

r, w = os.pipe()
os.dup2(w, 1)  # sys.stdout now writes into a pipe that nobody reads yet
os.close(w)
sys.stdout.reconfigure(line_buffering=True)  # as on the terminal ansible's test runs in
spewing, drain = True, threading.Event()


def spew():
    while spewing:
        sys.stdout.write("\x1b[K" * 65536)  # more than the pipe holds: write() blocks
        sys.stdout.flush()


def reader():
    drain.wait()
    while os.read(r, 1 << 16):
        pass


threading.Thread(target=reader, daemon=True).start()
spewer = threading.Thread(target=spew, daemon=True)
spewer.start()
for _ in range(500):  # wait until the spew thread sits in write(), lock held
    with open(f"/proc/self/task/{spewer.native_id}/syscall") as f:
        if f.read().split()[0] == "1":
            break
    time.sleep(0.01)
os.register_at_fork(after_in_child=lambda: print(f"hi from forked child pid {os.getpid()}"))
pid = os.fork()
if pid == 0:
    os._exit(0)  # not reached: the at-fork print never returns
spewing = False
drain.set()
_, status = os.waitpid(pid, 0)
print("not reached", status, file=sys.stderr)
