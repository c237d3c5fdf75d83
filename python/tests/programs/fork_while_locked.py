# A thread named "lock-holder" takes a lock and waits while holding it; the main thread
# forks at that moment (multiprocessing's fork method). The child only reports whether it
# inherited the lock held, then exits. Prints the holder's native thread id and that answer.
import multiprocessing
import threading

lock = threading.Lock()
holding = threading.Event()
release = threading.Event()


def hold_lock():
    with lock:
        holding.set()
        release.wait(30)


def report(queue):
    queue.put(lock.locked())


if __name__ == "__main__":
    holder = threading.Thread(target=hold_lock, name="lock-holder")
    holder.start()
    holding.wait(30)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=report, args=(queue,))
    child.start()
    inherited_locked = queue.get(timeout=30)
    child.join()
    release.set()
    holder.join()
    print(holder.native_id, inherited_locked)
