# Hang: Popen(stdout=PIPE).wait() on a child that writes more than the pipe buffer holds.
# Seen in: Python docs, subprocess, Popen.wait warning "This will deadlock when using stdout=PIPE or stderr=PIPE and the child process generates enough output" (https://docs.python.org/3/library/subprocess.html#subprocess.Popen.wait); bpo-7177.
#
# Mechanism: the child (a second python3) is blocked in write() on a full 64 KiB pipe;
# the parent is blocked in wait4() for the child and is the only reader of that pipe.
# Neither wait has a deadline. The docs' fix is communicate() (see
# subprocess_communicate_timeout.py for the healthy twin).
import subprocess
import sys

child = [sys.executable, "-c", "import sys; sys.stdout.write('x' * (1 << 20))"]
proc = subprocess.Popen(child, stdout=subprocess.PIPE)
proc.wait()  # never returns
print("not reached", proc.returncode)
