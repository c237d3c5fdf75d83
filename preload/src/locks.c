// The lock interposers: pthread mutexes, rwlocks and condition waits, and POSIX
// semaphores. Each forwards to glibc's function, resolved once, and on success notes the
// lock in the calling thread's slot: a few loads and stores, no system call, no lock.
//
// Process-shared objects are not noted: another process may release them, so a child does
// not wait for a vanished owner (a multiprocessing.Lock is one).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <time.h>

#include "forkwatch.h"

#define RET_ADDR() ((uintptr_t)__builtin_return_address(0))
#define MODE() atomic_load_explicit(&fw_mode, memory_order_relaxed)

// pthread_cond_* have two versions in glibc; GLIBC_2.3.2 is the one programs built since
// 2003 use (the GLIBC_2.2.5 one expects the old condition variable layout). The others
// have one ABI, and dlsym gives the default version.
#define LOCK_FUNCTIONS(X)                                                                      \
    X(pthread_mutex_lock) X(pthread_mutex_trylock) X(pthread_mutex_timedlock)                  \
    X(pthread_mutex_clocklock) X(pthread_mutex_unlock) X(pthread_mutex_init)                   \
    X(pthread_mutex_destroy) X(pthread_rwlock_rdlock) X(pthread_rwlock_tryrdlock)              \
    X(pthread_rwlock_timedrdlock) X(pthread_rwlock_clockrdlock) X(pthread_rwlock_wrlock)       \
    X(pthread_rwlock_trywrlock) X(pthread_rwlock_timedwrlock) X(pthread_rwlock_clockwrlock)    \
    X(pthread_rwlock_unlock) X(pthread_rwlock_init) X(pthread_rwlock_destroy) X(sem_wait)      \
    X(sem_trywait) X(sem_timedwait) X(sem_clockwait) X(sem_post) X(sem_init) X(sem_destroy)
#define COND_FUNCTIONS(X) X(pthread_cond_wait) X(pthread_cond_timedwait) X(pthread_cond_clockwait)

#define DECLARE_REAL(name) static __typeof__(&name) real_##name;
LOCK_FUNCTIONS(DECLARE_REAL)
COND_FUNCTIONS(DECLARE_REAL)

void fw_resolve_calls(void);

void fw_resolve_all(void) {
#define RESOLVE(name) real_##name = (__typeof__(real_##name))dlsym(RTLD_NEXT, #name);
#define RESOLVE_COND(name) real_##name = (__typeof__(real_##name))dlvsym(RTLD_NEXT, #name, "GLIBC_2.3.2");
    LOCK_FUNCTIONS(RESOLVE)
    COND_FUNCTIONS(RESOLVE_COND)
    // pthread_cond_clockwait exists since 2.30 only, under GLIBC_2.30 (and 2.34).
    if (real_pthread_cond_clockwait == NULL)
        real_pthread_cond_clockwait = (__typeof__(real_pthread_cond_clockwait))dlsym(RTLD_NEXT, "pthread_cond_clockwait");
    fw_resolve_calls();
}

// A hook may run before the constructor (another library's constructor takes a lock).
#define REAL(name) (FW_LIKELY(real_##name != NULL) ? real_##name : (fw_resolve_all(), real_##name))

// glibc 2.36's private layouts, read only to skip process-shared objects:
// pthread_mutex_t.__data.__kind has PTHREAD_MUTEX_PSHARED_BIT (128, nptl/pthreadP.h);
// sem_t is struct new_sem {uint64_t data; int private; ...} (sysdeps/nptl/internaltypes.h)
// where private is FUTEX_SHARED (128) for a process-shared semaphore.
static inline bool mutex_shared(const pthread_mutex_t* m) { return (m->__data.__kind & 128) != 0; }
static inline bool rwlock_shared(const pthread_rwlock_t* rw) { return rw->__data.__shared != 0; }
static inline bool sem_shared(const sem_t* s) { return ((const int*)(const void*)s)[2] != 0; }

// The hooks below take three paths: FW_MODE_TRACK (the usual one: call glibc, note the
// lock), FW_MODE_OFF (forward only; the pointer may still need resolving, before the
// constructor) and FW_MODE_CHILD (a forked child: records first). The real pointers are
// resolved before the mode ever becomes TRACK or CHILD.
static inline void note_acquired(const void* obj, int kind, bool shared, uintptr_t ret) {
    if (!shared) fw_push(obj, kind, ret);
}

static inline void note_released(const void* obj) {
    struct fw_thread* t = fw_self;
    if (t != NULL) fw_pop(t, obj);
}

// An acquiring call: fn(obj, ...) returns 0 (or EOWNERDEAD for a robust mutex whose
// owner died: the caller holds it) when the caller now holds obj. The object is read
// (process-shared?) only once held: reading a contended lock's cache line before the
// atomic that takes it would cost a second transfer of the line.
#define ACQUIRE_HOOK(fn, KIND, BLOCKING, SHARED, PARAMS, ARGS)                                  \
    FW_EXPORT int fn PARAMS {                                                                   \
        int mode = MODE();                                                                      \
        if (FW_UNLIKELY(mode != FW_MODE_TRACK)) {                                               \
            if (mode == FW_MODE_OFF) return REAL(fn) ARGS;                                      \
            fw_child_hook(KIND, obj, 0, BLOCKING, RET_ADDR());                                  \
        }                                                                                       \
        int r = real_##fn ARGS;                                                                 \
        if (FW_LIKELY(r == 0) || r == EOWNERDEAD) note_acquired(obj, KIND, SHARED(obj), RET_ADDR()); \
        return r;                                                                               \
    }

ACQUIRE_HOOK(pthread_mutex_lock, FW_KIND_MUTEX, true, mutex_shared, (pthread_mutex_t* obj), (obj))
ACQUIRE_HOOK(pthread_mutex_trylock, FW_KIND_MUTEX, false, mutex_shared, (pthread_mutex_t* obj), (obj))
ACQUIRE_HOOK(pthread_mutex_timedlock, FW_KIND_MUTEX, true, mutex_shared,
             (pthread_mutex_t* restrict obj, const struct timespec* restrict at), (obj, at))
ACQUIRE_HOOK(pthread_mutex_clocklock, FW_KIND_MUTEX, true, mutex_shared,
             (pthread_mutex_t* restrict obj, clockid_t clock, const struct timespec* restrict at),
             (obj, clock, at))
ACQUIRE_HOOK(pthread_rwlock_rdlock, FW_KIND_RWLOCK_READ, true, rwlock_shared, (pthread_rwlock_t* obj), (obj))
ACQUIRE_HOOK(pthread_rwlock_tryrdlock, FW_KIND_RWLOCK_READ, false, rwlock_shared, (pthread_rwlock_t* obj), (obj))
ACQUIRE_HOOK(pthread_rwlock_timedrdlock, FW_KIND_RWLOCK_READ, true, rwlock_shared,
             (pthread_rwlock_t* restrict obj, const struct timespec* restrict at), (obj, at))
ACQUIRE_HOOK(pthread_rwlock_clockrdlock, FW_KIND_RWLOCK_READ, true, rwlock_shared,
             (pthread_rwlock_t* restrict obj, clockid_t clock, const struct timespec* restrict at),
             (obj, clock, at))
ACQUIRE_HOOK(pthread_rwlock_wrlock, FW_KIND_RWLOCK_WRITE, true, rwlock_shared, (pthread_rwlock_t* obj), (obj))
ACQUIRE_HOOK(pthread_rwlock_trywrlock, FW_KIND_RWLOCK_WRITE, false, rwlock_shared, (pthread_rwlock_t* obj), (obj))
ACQUIRE_HOOK(pthread_rwlock_timedwrlock, FW_KIND_RWLOCK_WRITE, true, rwlock_shared,
             (pthread_rwlock_t* restrict obj, const struct timespec* restrict at), (obj, at))
ACQUIRE_HOOK(pthread_rwlock_clockwrlock, FW_KIND_RWLOCK_WRITE, true, rwlock_shared,
             (pthread_rwlock_t* restrict obj, clockid_t clock, const struct timespec* restrict at),
             (obj, clock, at))

// Releases: the entry leaves the table before the lock is released, so a snapshot never
// reports a lock that is already free.
#define RELEASE_HOOK(fn, T)                                                      \
    FW_EXPORT int fn(T* obj) {                                                   \
        int mode = MODE();                                                       \
        if (FW_UNLIKELY(mode != FW_MODE_TRACK)) {                                \
            if (mode == FW_MODE_OFF) return REAL(fn)(obj);                       \
            fw_child_hook(FW_KIND_NONE, obj, 0, false, RET_ADDR());              \
        }                                                                        \
        note_released(obj);                                                      \
        return real_##fn(obj);                                                   \
    }

RELEASE_HOOK(pthread_mutex_unlock, pthread_mutex_t)
RELEASE_HOOK(pthread_rwlock_unlock, pthread_rwlock_t)

// Initialising or destroying an object in a forked child ends any wait for the owner it
// had at the fork (CPython re-creates its GIL's mutex this way). Otherwise pass-through.
#define FORGET_HOOK(fn, PARAMS, ARGS)                                                   \
    FW_EXPORT int fn PARAMS {                                                           \
        if (FW_UNLIKELY(MODE() == FW_MODE_CHILD)) fw_child_forget(obj);                 \
        return REAL(fn) ARGS;                                                           \
    }

FORGET_HOOK(pthread_mutex_init, (pthread_mutex_t* obj, const pthread_mutexattr_t* attr), (obj, attr))
FORGET_HOOK(pthread_mutex_destroy, (pthread_mutex_t* obj), (obj))
FORGET_HOOK(pthread_rwlock_init, (pthread_rwlock_t* restrict obj, const pthread_rwlockattr_t* restrict attr),
            (obj, attr))
FORGET_HOOK(pthread_rwlock_destroy, (pthread_rwlock_t* obj), (obj))
FORGET_HOOK(sem_init, (sem_t* obj, int pshared, unsigned value), (obj, pshared, value))
FORGET_HOOK(sem_destroy, (sem_t* obj), (obj))

// Condition waits. glibc releases the mutex and takes it again *inside* the wait, without
// the public unlock and lock (nptl/pthread_cond_wait.c calls __pthread_mutex_unlock_usercnt
// and __pthread_mutex_cond_lock): a waiting thread does not hold its mutex, so the entry
// leaves the table for the wait and comes back, with its original acquiring address, when
// the wait returns holding the mutex again.
#define COND_HOOK(fn, PARAMS, ARGS)                                                          \
    FW_EXPORT int fn PARAMS {                                                                \
        int mode = MODE();                                                                   \
        if (FW_UNLIKELY(mode != FW_MODE_TRACK)) {                                            \
            if (mode == FW_MODE_OFF) return REAL(fn) ARGS;                                   \
            fw_child_hook(FW_KIND_NONE, NULL, 0, false, RET_ADDR());                         \
        }                                                                                    \
        struct fw_thread* t = fw_self;                                                       \
        uintptr_t acquired_at = t != NULL ? fw_pop(t, m) : 0;                                \
        int r = real_##fn ARGS;                                                              \
        if (acquired_at != 0 && (r == 0 || r == ETIMEDOUT || r == EOWNERDEAD))               \
            fw_push(m, FW_KIND_MUTEX, acquired_at);                                          \
        return r;                                                                            \
    }

COND_HOOK(pthread_cond_wait, (pthread_cond_t* restrict c, pthread_mutex_t* restrict m), (c, m))
COND_HOOK(pthread_cond_timedwait,
          (pthread_cond_t* restrict c, pthread_mutex_t* restrict m, const struct timespec* restrict at),
          (c, m, at))
COND_HOOK(pthread_cond_clockwait,
          (pthread_cond_t* restrict c, pthread_mutex_t* restrict m, clockid_t clock,
           const struct timespec* restrict at),
          (c, m, clock, at))

// Semaphores. CPython's locks (threading.Lock, RLock, the io buffer and logging locks)
// are sem_t here (Python/thread_pthread.h with USE_SEMAPHORES): sem_trywait first, then
// sem_wait or sem_clockwait. A thread blocked on a semaphore it holds itself is using it as
// a signal, not for mutual exclusion (threading.Condition blocks on its waiter lock that
// way): waiting_on marks it, and a fork snapshot skips that entry.
#define SEM_WAIT_HOOK(fn, PARAMS, ARGS)                                                      \
    FW_EXPORT int fn PARAMS {                                                                \
        int mode = MODE();                                                                   \
        if (FW_UNLIKELY(mode != FW_MODE_TRACK)) {                                            \
            if (mode == FW_MODE_OFF) return REAL(fn) ARGS;                                   \
            fw_child_hook(FW_KIND_SEM, obj, 0, true, RET_ADDR());                            \
        }                                                                                    \
        struct fw_thread* t = fw_thread_self();                                              \
        if (t == NULL) return real_##fn ARGS;                                                \
        atomic_store_explicit(&t->waiting_on, (uintptr_t)obj, memory_order_relaxed);         \
        int r = real_##fn ARGS;                                                              \
        atomic_store_explicit(&t->waiting_on, 0, memory_order_relaxed);                      \
        if (r == 0 && !sem_shared(obj)) fw_push(obj, FW_KIND_SEM, RET_ADDR());               \
        return r;                                                                            \
    }

SEM_WAIT_HOOK(sem_wait, (sem_t* obj), (obj))
SEM_WAIT_HOOK(sem_timedwait, (sem_t* restrict obj, const struct timespec* restrict at), (obj, at))
SEM_WAIT_HOOK(sem_clockwait, (sem_t* restrict obj, clockid_t clock, const struct timespec* restrict at),
              (obj, clock, at))

FW_EXPORT int sem_trywait(sem_t* obj) {
    int mode = MODE();
    if (FW_UNLIKELY(mode != FW_MODE_TRACK)) {
        if (mode == FW_MODE_OFF) return REAL(sem_trywait)(obj);
        fw_child_hook(FW_KIND_SEM, obj, 0, false, RET_ADDR());
    }
    int r = real_sem_trywait(obj);
    if (r == 0) note_acquired(obj, FW_KIND_SEM, sem_shared(obj), RET_ADDR());
    return r;
}

// sem_post releases whichever thread holds the semaphore (threading.Lock may be released
// by another thread). It is async-signal-safe, so in a child it never writes the fork
// record (symbolising is not); it only ends any wait on an inherited holder.
FW_EXPORT int sem_post(sem_t* obj) {
    int mode = MODE();
    if (FW_UNLIKELY(mode != FW_MODE_TRACK)) {
        if (mode == FW_MODE_OFF) return REAL(sem_post)(obj);
        fw_child_forget(obj);
    }
    if (!sem_shared(obj)) {
        struct fw_thread* t = fw_self;
        if (t == NULL || fw_pop(t, obj) == 0) fw_release_anywhere(obj);
    }
    return real_sem_post(obj);
}
