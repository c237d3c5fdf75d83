// The library's state: one slot per thread with the locks it holds, claimed on a thread's
// first interposed call and given back when it exits; and the constructor that decides
// whether the library does anything in this process.
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "forkwatch.h"

_Atomic int fw_mode = FW_MODE_OFF;
struct fw_thread fw_threads[FW_MAX_THREADS];
_Atomic uint32_t fw_threads_used;
_Atomic uint32_t fw_untracked;

FW_TLS struct fw_thread* fw_self;
FW_TLS int fw_guard;
FW_TLS int fw_no_slot;

static pthread_key_t slot_key;
static bool slot_key_ok;

const char* fw_kind_name(int kind) {
    switch (kind) {
    case FW_KIND_MUTEX: return "pthread_mutex";
    case FW_KIND_RWLOCK_WRITE: return "pthread_rwlock_write";
    case FW_KIND_RWLOCK_READ: return "pthread_rwlock_read";
    case FW_KIND_SEM: return "sem";
    case FW_KIND_LIBC_CALL: return "libc_call";
    default: return "unknown";
    }
}

// Thread exit (a pthread key destructor, run after C++ thread_local destructors): the
// slot goes back. If the thread takes a lock after this, it claims a slot again and glibc
// runs the destructor once more.
static void slot_release(void* arg) {
    struct fw_thread* t = arg;
    fw_self = NULL;
    atomic_store_explicit(&t->nheld, 0, memory_order_relaxed);
    atomic_store_explicit(&t->overflow, 0, memory_order_relaxed);
    atomic_store_explicit(&t->libc_call, 0, memory_order_relaxed);
    atomic_store_explicit(&t->waiting_on, 0, memory_order_relaxed);
    t->libc_depth = 0;
    atomic_store_explicit(&t->tid, 0, memory_order_release);
}

struct fw_thread* fw_claim_slot(void) {
    if (!slot_key_ok) return NULL;  // before the constructor: nothing is tracked yet
    pid_t tid = (pid_t)syscall(SYS_gettid);
    for (uint32_t i = 0; i < FW_MAX_THREADS; i++) {
        struct fw_thread* t = &fw_threads[i];
        pid_t expected = 0;
        if (atomic_load_explicit(&t->tid, memory_order_relaxed) != 0) continue;
        if (!atomic_compare_exchange_strong(&t->tid, &expected, tid)) continue;
        uint32_t used = atomic_load(&fw_threads_used);
        while (used < i + 1 && !atomic_compare_exchange_weak(&fw_threads_used, &used, i + 1)) {
        }
        t->libc_depth = 0;
        fw_self = t;
        // Keys below PTHREAD_KEY_2NDLEVEL_SIZE live in the thread descriptor: no malloc.
        pthread_setspecific(slot_key, t);
        return t;
    }
    fw_no_slot = 1;
    atomic_fetch_add(&fw_untracked, 1);
    return NULL;
}

static uint32_t fw_compact(struct fw_thread* t);

void fw_push_slow(const void* addr, int kind, uintptr_t ret) {
    if ((uintptr_t)addr & FW_KIND_MASK) return;  // no room for the kind: not tracked
    struct fw_thread* t = fw_thread_self();
    if (t == NULL) return;
    uint32_t n = atomic_load_explicit(&t->nheld, memory_order_relaxed);
    if (n >= FW_MAX_HELD) n = fw_compact(t);
    if (n >= FW_MAX_HELD) {
        atomic_fetch_add_explicit(&t->overflow, 1, memory_order_relaxed);
        return;
    }
    struct fw_held* h = &t->held[n];
    atomic_store_explicit(&h->ret, ret, memory_order_relaxed);
    atomic_store_explicit(&h->word, (uintptr_t)addr | (uintptr_t)kind, memory_order_relaxed);
    atomic_store_explicit(&t->nheld, n + 1, memory_order_release);
}

static uint32_t fw_compact(struct fw_thread* t) {
    // held[] is full: close the gaps other threads left (sem_post by a non-holder).
    uint32_t n = atomic_load_explicit(&t->nheld, memory_order_relaxed), out = 0;
    for (uint32_t i = 0; i < n; i++) {
        uintptr_t word = atomic_load_explicit(&t->held[i].word, memory_order_relaxed);
        if (word == 0) continue;
        if (out != i) {
            atomic_store_explicit(&t->held[out].ret,
                                  atomic_load_explicit(&t->held[i].ret, memory_order_relaxed),
                                  memory_order_relaxed);
            atomic_store_explicit(&t->held[out].word, word, memory_order_relaxed);
            atomic_store_explicit(&t->held[i].word, 0, memory_order_relaxed);
        }
        out++;
    }
    atomic_store_explicit(&t->nheld, out, memory_order_release);
    return out;
}

uintptr_t fw_pop_slow(struct fw_thread* t, const void* addr) {
    uint32_t n = atomic_load_explicit(&t->nheld, memory_order_relaxed);
    for (uint32_t i = n; i-- > 0;) {
        struct fw_held* h = &t->held[i];
        if ((atomic_load_explicit(&h->word, memory_order_relaxed) & ~FW_KIND_MASK) != (uintptr_t)addr) continue;
        uintptr_t ret = atomic_load_explicit(&h->ret, memory_order_relaxed);
        // A plain store, no locked instruction: only a sem_post in another thread may
        // clear this entry too, and then both write 0 (two releases of one acquire).
        atomic_store_explicit(&h->word, 0, memory_order_relaxed);
        while (n > 0 && atomic_load_explicit(&t->held[n - 1].word, memory_order_relaxed) == 0) n--;
        atomic_store_explicit(&t->nheld, n, memory_order_release);
        return ret ? ret : 1;
    }
    // Taken while held[] was full (or before the library started): nothing to remove.
    uint32_t over = atomic_load_explicit(&t->overflow, memory_order_relaxed);
    if (over > 0) atomic_store_explicit(&t->overflow, over - 1, memory_order_relaxed);
    return 0;
}

// threading.Lock may be released by a thread other than the one that acquired it, and a
// threading.Condition's notify releases the waiter's lock: the entry leaves its holder's
// table, whichever thread that is.
void fw_release_anywhere(const void* addr) {
    uint32_t used = atomic_load_explicit(&fw_threads_used, memory_order_acquire);
    for (uint32_t i = 0; i < used; i++) {
        struct fw_thread* t = &fw_threads[i];
        if (atomic_load_explicit(&t->tid, memory_order_relaxed) == 0) continue;
        uint32_t n = atomic_load_explicit(&t->nheld, memory_order_acquire);
        for (uint32_t j = 0; j < n && j < FW_MAX_HELD; j++) {
            struct fw_held* h = &t->held[j];
            uintptr_t expected = (uintptr_t)addr | FW_KIND_SEM;
            if (atomic_load_explicit(&h->word, memory_order_relaxed) != expected) continue;
            if (atomic_compare_exchange_strong_explicit(&h->word, &expected, 0, memory_order_relaxed,
                                                        memory_order_relaxed))
                return;
        }
    }
}

// Runs before main (and before the program's own constructors, which come after those of
// everything preloaded). Until it has run, fw_mode is FW_MODE_OFF and hooks only forward.
__attribute__((constructor)) static void fw_init(void) {
    fw_guard = 1;
    fw_resolve_all();
    if (!fw_events_open()) {
        fw_guard = 0;
        return;  // HANGAR_EVENTS_FILE unset or unusable: write nothing, change nothing
    }
    if (pthread_key_create(&slot_key, slot_release) != 0) {
        fw_hazards_unavailable("pthread_key_create failed: no per-thread state");
        fw_guard = 0;
        return;
    }
    slot_key_ok = true;
    fw_symbols_init();
    fw_python_init();
    fw_fork_init();
    fw_guard = 0;
    atomic_store(&fw_mode, FW_MODE_TRACK);
    fw_loaded();
}
