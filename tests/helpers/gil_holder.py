# For the harness's tests: a Python thread waits for the GIL while the GIL's holder is
# blocked in a C call made with the GIL held (ctypes.PyDLL keeps it, as an extension
# method without Py_BEGIN_ALLOW_THREADS does).
#   gil_holder.py stuck    the holder reads a pipe that no live thread will write: a deadlock
#   gil_holder.py late MS  a live child writes that pipe MS later: the run passes
import ctypes
import os
import sys
import threading
import time

mode = sys.argv[1]
r, w = os.pipe()
child = 0
if mode == "late":
    child = os.fork()
    if child == 0:
        os.close(r)
        time.sleep(int(sys.argv[2]) / 1000)
        os.write(w, b"x")
        os._exit(0)


def wants_the_gil():
    while True:
        time.sleep(0.01)  # takes the GIL back every 10 ms


threading.Thread(target=wants_the_gil, daemon=True).start()
time.sleep(0.1)
byte = ctypes.create_string_buffer(1)
ctypes.PyDLL(None).read(r, byte, 1)  # blocks with the GIL held
if child:
    os.waitpid(child, 0)
