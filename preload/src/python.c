// CPython thread sentinels. Every threading.Thread (and the main thread once `threading`
// is imported) holds one lock for its whole life, Thread._tstate_lock, which the
// interpreter releases when the thread's state is deleted (Include/cpython/pystate.h,
// the comment on on_delete_data). Held across any fork, it is no hazard: the child's
// threading._after_fork drops it without waiting on it. Left in, every fork of a Python
// program with a second thread would report one "held" semaphore per thread.
//
// The sentinel is found the way the interpreter releases it: each thread state's
// on_delete_data is a weak reference to the lock object, whose lock_lock is the sem_t.
// The thread-state layout is CPython 3.11's (struct _ts, offsets below); the walk runs only
// when the process exports Py_Version 3.11.x, reads through process_vm_readv so that a
// state freed meanwhile cannot fault, and each pair is also checked against the native
// thread id in that state, so a wrong layout filters nothing rather than the wrong thing.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/uio.h>
#include <unistd.h>

#include "forkwatch.h"

// struct _ts (Include/cpython/pystate.h, 3.11) on x86-64 and other LP64 targets.
enum {
    TS_NEXT = 8,
    TS_NATIVE_THREAD_ID = 160,
    TS_ON_DELETE = 184,
    TS_ON_DELETE_DATA = 192,
    WEAKREF_OBJECT = 16,  // PyWeakReference.wr_object, after PyObject_HEAD
    LOCK_LOCK = 16,       // Modules/_threadmodule.c lockobject.lock_lock, after PyObject_HEAD
};

typedef void* (*head_fn)(void);
typedef void* (*next_fn)(void*);
static head_fn interpreter_head;
static next_fn interpreter_next, interpreter_thread_head;

void fw_python_init(void) {
    const unsigned long* version = dlsym(RTLD_DEFAULT, "Py_Version");
    if (version == NULL || (*version >> 16) != 0x030b) return;
    interpreter_head = (head_fn)dlsym(RTLD_DEFAULT, "PyInterpreterState_Head");
    interpreter_next = (next_fn)dlsym(RTLD_DEFAULT, "PyInterpreterState_Next");
    interpreter_thread_head = (next_fn)dlsym(RTLD_DEFAULT, "PyInterpreterState_ThreadHead");
    if (!interpreter_next || !interpreter_thread_head) interpreter_head = NULL;
}

static bool peek(uintptr_t addr, void* out, size_t n) {
    struct iovec local = {out, n}, remote = {(void*)addr, n};
    return addr != 0 && process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)n;
}

size_t fw_python_sentinels(struct fw_sentinel* out, size_t max) {
    if (interpreter_head == NULL) return 0;
    size_t n = 0;
    int interpreters = 0;
    // PyInterpreterState_Head/Next/ThreadHead only read a pointer; no lock, no GIL needed.
    for (void* interp = interpreter_head(); interp && interpreters < 64; interp = interpreter_next(interp)) {
        interpreters++;
        uintptr_t ts = (uintptr_t)interpreter_thread_head(interp);
        for (int threads = 0; ts != 0 && threads < 4096 && n < max; threads++) {
            unsigned long native = 0;
            uintptr_t on_delete = 0, weakref = 0, lock = 0, sem = 0, next = 0;
            if (!peek(ts + TS_NEXT, &next, sizeof next)) break;
            if (peek(ts + TS_NATIVE_THREAD_ID, &native, sizeof native) &&
                peek(ts + TS_ON_DELETE, &on_delete, sizeof on_delete) && on_delete != 0 &&
                peek(ts + TS_ON_DELETE_DATA, &weakref, sizeof weakref) &&
                peek(weakref + WEAKREF_OBJECT, &lock, sizeof lock) &&
                peek(lock + LOCK_LOCK, &sem, sizeof sem) && sem != 0 && native != 0) {
                out[n].tid = (pid_t)native;
                out[n].sem = sem;
                n++;
            }
            ts = next;
        }
    }
    return n;
}
