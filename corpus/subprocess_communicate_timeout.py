# Healthy: Popen.communicate(timeout=...) on a stuck child, then kill() and communicate() again, as the subprocess docs show.
# Seen in: Python docs, subprocess, Popen.communicate: "If the process does not terminate after timeout seconds, a TimeoutExpired exception will be raised... proc.kill(); outs, errs = proc.communicate()" (https://docs.python.org/3/library/subprocess.html#subprocess.Popen.communicate).
#
# The child is stuck for good: its only thread waits on a lock it already holds (an
# untimed private futex, like a child stuck on an inherited lock). The parent waits
# for its output in poll() with a 2 s deadline, gets TimeoutExpired, kills the child,
# collects what it wrote and exits 0. A poll() with a deadline that then acts: must pass.
import subprocess
import sys

stuck = "import threading; l = threading.Lock(); l.acquire(); print('child waiting', flush=True); l.acquire()"
proc = subprocess.Popen([sys.executable, "-c", stuck], stdout=subprocess.PIPE, text=True)
try:
    outs, _ = proc.communicate(timeout=2)
except subprocess.TimeoutExpired:
    proc.kill()
    outs, _ = proc.communicate()
print(f"child said {outs.strip()!r}, killed after 2 s, exit status {proc.returncode}")
sys.exit(0)
