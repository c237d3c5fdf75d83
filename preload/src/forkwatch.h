// libhangar_forkwatch.so: what the pieces of the library share. Internal; nothing here is
// an interface for programs. The record format is /work/wt/EVENTS.md ("Records written by
// the preload library").
//
// State lives in tables sized at load time (no malloc anywhere in the library): one slot
// per thread that has called an interposed function, holding that thread's held locks and
// the glibc call it is inside. Only the owning thread adds entries to its slot; other
// threads read slots (fork snapshots) and clear single entries (sem_post by a thread other
// than the one that took the semaphore), always with atomic loads and stores.
#ifndef HANGAR_FORKWATCH_H
#define HANGAR_FORKWATCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FW_EXPORT __attribute__((visibility("default")))
#define FW_LIKELY(x) __builtin_expect(!!(x), 1)
#define FW_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define FW_TLS __attribute__((tls_model("initial-exec"))) _Thread_local

enum {
    FW_MAX_THREADS = 1024,  // threads tracked at once; more are counted as untracked
    FW_MAX_HELD = 64,       // locks one thread holds at once; more are counted per thread
    FW_MAX_FRAMES = 48,     // native frames kept per holder stack
    FW_MAX_HAZARDS = 64,    // hazards kept per fork
    FW_RECORD_MAX = 60 * 1024,  // EVENTS.md: records stay under 60 KiB
};

// What a held entry or a hazard is. The names are EVENTS.md's `kind` strings.
enum fw_kind {
    FW_KIND_NONE = 0,
    FW_KIND_MUTEX,         // "pthread_mutex"
    FW_KIND_RWLOCK_WRITE,  // "pthread_rwlock_write"
    FW_KIND_RWLOCK_READ,   // "pthread_rwlock_read"
    FW_KIND_SEM,           // "sem"
    FW_KIND_LIBC_CALL,     // "libc_call"
};
const char* fw_kind_name(int kind);

// Process-wide mode, read first by every hook.
enum fw_mode {
    FW_MODE_OFF = 0,  // HANGAR_EVENTS_FILE unset or unusable, or before the constructor: pass through
    FW_MODE_TRACK,    // normal: keep held-lock tables
    FW_MODE_CHILD,    // a forked child with a fork record to write or inherited hazards to watch
};
extern _Atomic int fw_mode;

// A held lock: its address with the kind in the low 3 bits (locks and semaphores are
// 8-byte aligned; an unaligned one is not tracked), and where it was taken.
struct fw_held {
    _Atomic uintptr_t word;  // addr | kind; 0 = free (or released by another thread)
    _Atomic uintptr_t ret;   // return address of the acquiring call
};
#define FW_KIND_MASK ((uintptr_t)7)

// One thread's slot. Written by its owner except where said.
struct fw_thread {
    _Atomic pid_t tid;  // 0 = free slot
    _Atomic uint32_t nheld;
    _Atomic uint32_t overflow;       // locks taken while held[] was full, not yet released
    _Atomic uintptr_t waiting_on;    // the semaphore this thread is blocked on, if any
    _Atomic int libc_call;           // fw_call id of the outermost glibc call it is inside
    _Atomic uintptr_t libc_call_ret; // where it called it
    int libc_depth;
    struct fw_held held[FW_MAX_HELD];

    // Stack capture (fork.c). A forking thread stores a generation in bt_req and signals
    // the thread; the handler stores frames under the bt_seq seqlock and publishes the
    // generation it served in bt_done (also a futex word the forker waits on).
    _Atomic uint32_t bt_inside;  // odd while the stack handler runs on this thread
    _Atomic uint32_t bt_req;
    _Atomic uint32_t bt_seq;
    _Atomic uint32_t bt_done;
    _Atomic uint32_t bt_n;
    _Atomic uintptr_t bt_frames[FW_MAX_FRAMES];
};

extern struct fw_thread fw_threads[FW_MAX_THREADS];
extern _Atomic uint32_t fw_threads_used;  // high-water mark of slots ever claimed
extern _Atomic uint32_t fw_untracked;     // threads that found no free slot

// Hooks track nothing while fw_self is NULL and fw_no_slot is set: a thread with no free
// slot, or the stack handler while it unwinds (libgcc may take a pthread mutex there).
extern FW_TLS struct fw_thread* fw_self;  // this thread's slot, or NULL
extern FW_TLS int fw_no_slot;             // no slot for now: stop looking
extern FW_TLS int fw_guard;               // the library's own slow paths are running

struct fw_thread* fw_claim_slot(void);
// This thread's slot, claiming one on first use; NULL if the table is full.
static inline struct fw_thread* fw_thread_self(void) {
    struct fw_thread* t = fw_self;
    if (FW_LIKELY(t != NULL)) return t;
    return fw_no_slot ? NULL : fw_claim_slot();
}

// Notes that the calling thread now holds addr. The usual case (a slot, room in it) is a
// few stores; everything else is fw_push_slow, called last so that nothing has to survive
// the call (the hooks' hot paths then keep fewer registers).
void fw_push_slow(const void* addr, int kind, uintptr_t ret);
static inline void fw_push(const void* addr, int kind, uintptr_t ret) {
    struct fw_thread* t = fw_self;
    uint32_t n;
    if (FW_UNLIKELY(t == NULL) || FW_UNLIKELY((uintptr_t)addr & FW_KIND_MASK) ||
        FW_UNLIKELY((n = atomic_load_explicit(&t->nheld, memory_order_relaxed)) >= FW_MAX_HELD)) {
        fw_push_slow(addr, kind, ret);
        return;
    }
    struct fw_held* h = &t->held[n];
    atomic_store_explicit(&h->ret, ret, memory_order_relaxed);
    atomic_store_explicit(&h->word, (uintptr_t)addr | (uintptr_t)kind, memory_order_relaxed);
    atomic_store_explicit(&t->nheld, n + 1, memory_order_release);
}

// Removes the newest entry for addr; returns its acquiring return address, or 0 if the
// thread held no such entry. Inline for the usual case, the last lock taken released
// first. A gap that another thread's sem_post left below stays until the table is full
// (fw_compact); readers skip gaps.
uintptr_t fw_pop_slow(struct fw_thread* t, const void* addr);
static inline uintptr_t fw_pop(struct fw_thread* t, const void* addr) {
    uint32_t n = atomic_load_explicit(&t->nheld, memory_order_relaxed);
    if (FW_LIKELY(n > 0 && n <= FW_MAX_HELD)) {
        struct fw_held* h = &t->held[n - 1];
        if (FW_LIKELY((atomic_load_explicit(&h->word, memory_order_relaxed) & ~FW_KIND_MASK) == (uintptr_t)addr)) {
            uintptr_t ret = atomic_load_explicit(&h->ret, memory_order_relaxed);
            atomic_store_explicit(&h->word, 0, memory_order_relaxed);
            atomic_store_explicit(&t->nheld, n - 1, memory_order_release);
            return ret;
        }
    }
    return fw_pop_slow(t, addr);
}
// Removes one entry for the semaphore addr from any thread (sem_post by a non-holder).
void fw_release_anywhere(const void* addr);

// glibc calls that hold a glibc-internal lock (libc_calls.c).
struct fw_call_info {
    const char* name;  // the function, e.g. "getaddrinfo"
    int group;         // calls sharing a group share the lock
    const char* lock;  // the lock, with the glibc 2.36 file that defines it
};
const struct fw_call_info* fw_call(int id);  // id >= 1

// Record output (record.c).
bool fw_events_open(void);
void fw_events_write(const char* data, size_t len);
void fw_hazards_unavailable(const char* why);
void fw_loaded(void);

struct fw_buf {
    char* p;
    size_t len, cap;
    bool full;
};
void fw_put(struct fw_buf* b, const char* s);
void fw_put_n(struct fw_buf* b, const char* s, size_t n);
void fw_put_json_str(struct fw_buf* b, const char* s, size_t n);
void fw_put_u64(struct fw_buf* b, uint64_t v);
void fw_put_i64(struct fw_buf* b, int64_t v);
void fw_put_hex(struct fw_buf* b, uintptr_t v);
// "module(symbol+0xOFF)" or "module+0xOFF" as a JSON string; is_return: addr is a
// return address (look the symbol up at addr-1).
void fw_put_symbol(struct fw_buf* b, uintptr_t addr, bool is_return);
void fw_symbols_init(void);
bool fw_is_own_frame(uintptr_t addr);  // inside this library (an interposer's frame)

// Fork handling (fork.c).
void fw_fork_init(void);
// Called by every hook in FW_MODE_CHILD before it does its work. blocking: the hook is
// about to wait for addr (or enter call); kind/addr/call say what it is about to take.
void fw_child_hook(int kind, const void* addr, int call, bool blocking, uintptr_t ret);
// The child re-initialised or released addr: it no longer waits for a vanished owner.
void fw_child_forget(const void* addr);

// CPython thread sentinels (python.c): semaphores that threading.Thread holds for its whole
// life (Thread._tstate_lock), which the child's threading._after_fork discards.
struct fw_sentinel {
    pid_t tid;
    uintptr_t sem;
};
void fw_python_init(void);
size_t fw_python_sentinels(struct fw_sentinel* out, size_t max);

// Real functions, resolved once (interpose.c).
void fw_resolve_all(void);

#endif
