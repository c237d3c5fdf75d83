# Healthy: a lock wait that an armed alarm() breaks 3 s later; the program gives up on the lock and exits 0.
# Seen in: xapi-project/sm drivers/util.py timeout_call, a SIGALRM deadline around a call that may block (https://github.com/xapi-project/sm/pull/580); CPython Lib/test/test_threadsignals.py test_lock_acquire_interruption; threading docs, Lock.acquire: "Lock acquisition can now be interrupted by signals on POSIX" (3.2).
#
# While it waits, the only thread sits in an untimed private futex wait (sem_wait),
# exactly like a thread stuck on an inherited lock: /proc shows no deadline, because
# alarm() leaves no trace there (only SIGALRM in SigCgt of /proc/PID/status). At 3 s
# SIGALRM interrupts the wait, the handler raises, and the program goes on. Must pass.
import signal
import sys
import threading


class Timeout(Exception):
    pass


def on_alarm(signum, frame):
    raise Timeout()


signal.signal(signal.SIGALRM, on_alarm)
lock = threading.Lock()
lock.acquire()  # held by "someone else": the wait below cannot succeed
signal.alarm(3)
try:
    lock.acquire()
    print("acquired (unexpected)")
except Timeout:
    print("gave up on the lock after 3 s, as timeout_call does")
sys.exit(0)
