# Hang: in a forked child, a C call made with the GIL held blocks on a native mutex another thread held at fork(); the child's other Python thread waits for the GIL forever.
# Seen in: DataDog/dd-trace-py issue #11762 (https://github.com/DataDog/dd-trace-py/issues/11762): a forked child stuck in pthread_mutex_lock under the profiler's register_thread, the parent in join() forever; its PR #14852 makes that tracking release the GIL while it waits on the internal mutex.
#
# The extension's call is played by ctypes.PyDLL, which calls C *without releasing the
# GIL* (Python docs, ctypes "Loading shared libraries"), as an extension method without
# Py_BEGIN_ALLOW_THREADS does. The extension's internal mutex is a pthread_mutex_t.
# Mechanism (checked in /proc and with eu-stack on CPython 3.11): a sampler thread
# holds the mutex (through ctypes.CDLL, GIL released) when the main thread forks; the
# child starts a Python progress thread, then calls pthread_mutex_lock with the GIL
# held: an untimed private futex, forever. The progress thread waits for the GIL in
# CPython's take_gil: a condition wait with a 5 ms timeout, again and again. The
# parent waits in waitpid(). Deterministic: fork happens while the mutex is held.
import ctypes
import os
import threading
import time

libc_nogil = ctypes.CDLL(None)  # calls release the GIL
libc_gil = ctypes.PyDLL(None)   # calls keep the GIL, like an extension method
mutex = ctypes.create_string_buffer(64)  # zeroed: PTHREAD_MUTEX_INITIALIZER on glibc
holding = threading.Event()
release = threading.Event()


def sampler():
    libc_nogil.pthread_mutex_lock(mutex)  # the profiler's sampler, mid-sample
    holding.set()
    release.wait()
    libc_nogil.pthread_mutex_unlock(mutex)


def progress():
    while True:  # a Python thread that only needs the GIL now and then
        time.sleep(0.1)


threading.Thread(target=sampler, daemon=True).start()
holding.wait()
pid = os.fork()
if pid == 0:
    threading.Thread(target=progress, daemon=True).start()
    time.sleep(0.2)
    libc_gil.pthread_mutex_lock(mutex)  # registers the thread with the profiler: never returns
    os._exit(0)
release.set()
_, status = os.waitpid(pid, 0)
print("not reached", status)
