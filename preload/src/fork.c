// fork(): what other threads hold at the moment of the fork, and what a child then waits
// for.
//
// The library sees forks through pthread_atfork handlers registered by its constructor.
// glibc 2.36 runs them inside fork() itself (posix/fork.c: __run_prefork_handlers before
// _Fork, __run_postfork_handlers after), so they also see forks that an interposed `fork`
// symbol would miss (forkpty, daemon: glibc calls its own fork internally), and prepare
// handlers run last-registered first, so ours (registered before main) runs after the
// prepare handlers of libraries that take their own locks for the fork. vfork,
// posix_spawn and clone run no handlers and are not forks that copy locks into a child
// that goes on running this program's code. _Fork runs no handlers either; it is not
// interposed: its child may only call async-signal-safe functions, none of which waits
// on these locks.
//
// Prepare (in the forking thread, before the child exists): read every other thread's
// slot; if any holds a lock or is inside a listed glibc call, map a snapshot (mmap: no
// malloc) with the holders and their names. Nothing is waited for: a detector that delays
// the fork lets holders finish and changes the race it reports (measured: a Python
// getaddrinfo race went from about half of the forks hanging to a sixth). No lock of the
// library's own is ever held, so two threads forking at once each build their own snapshot.
//
// Parent (just after the fork): ask each holder for its stack with a real-time signal; its
// handler calls backtrace() into that thread's slot; the forking thread waits a bounded
// time and writes the stacks in a fork_stacks record (parent, tid, ns), which hangar joins
// with the child's fork record.
//
// Child: only the forking thread survives. Its copy of the slots is exactly what was held
// at the fork: whatever the snapshot missed in between is added from it. Its snapshot is
// kept; other slots are cleared so only the child's own locks count from then on. On the
// child's first interposed call the fork record is written (so a child that goes straight
// to exec or _exit writes nothing); before a blocking call on an address another thread
// held at the fork (or entering a glibc call of a group another thread was inside),
// inherited_wait is written.
#define _GNU_SOURCE
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "forkwatch.h"

enum stack_note {
    NOTE_NONE = 0,
    NOTE_DISABLED,        // HANGAR_FORKWATCH_STACKS=0
    NOTE_NO_SIGNAL,       // no real-time signal left at SIG_DFL
    NOTE_REPLACED,        // the program installed its own handler on our signal
    NOTE_BLOCKED,         // the holder blocks our signal
    NOTE_GONE,            // the holder exited
    NOTE_NO_ANSWER,       // no answer within the budget
    NOTE_IN_PARENT,       // in the child's record: the parent's fork_stacks record has it
    NOTE_CUT,             // dropped to keep the record under 60 KiB
    NOTE_AT_FORK,         // seen only in the child's copy of the slots: taken just before the fork
};

static const char* note_text(int note) {
    switch (note) {
    case NOTE_DISABLED: return "stacks disabled (HANGAR_FORKWATCH_STACKS=0)";
    case NOTE_NO_SIGNAL: return "no real-time signal was free to ask for it";
    case NOTE_REPLACED: return "the program replaced the library's handler of its real-time signal";
    case NOTE_BLOCKED: return "the holder thread blocks the library's real-time signal";
    case NOTE_GONE: return "the holder thread exited before it could answer";
    case NOTE_NO_ANSWER: return "the holder thread did not answer in time (HANGAR_FORKWATCH_STACK_MS, default 50)";
    case NOTE_IN_PARENT: return "taken by the parent just after the fork (its fork_stacks record)";
    case NOTE_CUT: return "cut to keep the record under 60 KiB";
    case NOTE_AT_FORK:
        return "taken between the library's last look and the fork itself (seen in the child's copy of the "
               "slots): no stack";
    default: return "unknown";
    }
}

// How long a fork waits for all holders' stacks together: HANGAR_FORKWATCH_STACK_MS,
// 50 ms unless set (1 to 10000).
static uint64_t stack_budget_ns = 50 * 1000 * 1000;

struct hazard {
    int kind;
    int call;        // kind libc_call: fw_call id
    uintptr_t addr;  // the lock (0 for libc_call)
    uintptr_t ret;   // where the holder took it (or called the glibc function)
    pid_t holder_tid;
    char holder[32];
    uint32_t overflow;
    int note;
    uint32_t nframes;
    uintptr_t frames[FW_MAX_FRAMES];
    _Atomic bool waited;     // child: inherited_wait written
    _Atomic bool forgotten;  // child: re-initialised or released there
};

// A thread the forking thread asked for its stack.
struct holder {
    struct fw_thread* t;
    pid_t tid;
    uint32_t gen;
    int note;
    uint32_t nframes;
    uintptr_t frames[FW_MAX_FRAMES];
    char name[32];
};

enum { MAX_SENTINELS = 256 };

struct snapshot {
    struct snapshot* prev;  // in a child: hazards inherited from an earlier fork
    pid_t parent;
    pid_t tid;
    char thread[32];
    uint64_t ns;
    uint32_t untracked;
    uint32_t dropped;
    uint32_t nhazards;
    struct hazard hazards[FW_MAX_HAZARDS];
    _Atomic int record;  // child: 0 to write, 1 being written, 2 written
    char text[FW_RECORD_MAX];
    // Scratch of the forking thread.
    size_t nsentinels;
    struct fw_sentinel sentinels[MAX_SENTINELS];
    uint32_t nholders;
    struct holder holders[FW_MAX_HAZARDS];
};

static FW_TLS struct snapshot* forking;  // the snapshot of this thread's fork in progress
static struct snapshot* inherited;       // in a child: the snapshots it inherited
static bool stacks_enabled = true;

// ---- stacks ---------------------------------------------------------------------------

// The signal: the highest real-time signal the program leaves at SIG_DFL, chosen and
// installed at the first fork that needs a stack (not at load: a program that later
// takes that signal for itself keeps it, and then its stacks say so). Applications and
// libraries allocate real-time signals from SIGRTMIN up; glibc keeps 32 and 33 below
// SIGRTMIN for itself. The handler runs with every signal blocked and SA_RESTART, so an
// interrupted read(), write(), or untimed futex wait simply resumes.
static _Atomic int signal_state;  // 0 not chosen, 1 choosing, 2 ready, 3 none free
static int stack_signal;

static void stack_handler(int sig, siginfo_t* info, void* context);

static int ensure_signal(void) {
    int state = atomic_load(&signal_state);
    if (state == 0 && atomic_compare_exchange_strong(&signal_state, &state, 1)) {
        state = 3;
        for (int sig = SIGRTMAX; sig >= SIGRTMAX - 7 && sig > SIGRTMIN; sig--) {
            struct sigaction old;
            if (sigaction(sig, NULL, &old) != 0) continue;
            if (old.sa_handler != SIG_DFL || (old.sa_flags & SA_SIGINFO)) continue;
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_sigaction = stack_handler;
            sa.sa_flags = SA_SIGINFO | SA_RESTART;
            sigfillset(&sa.sa_mask);
            if (sigaction(sig, &sa, NULL) != 0) continue;
            stack_signal = sig;
            state = 2;
            break;
        }
        atomic_store(&signal_state, state);
        if (state == 3) fw_hazards_unavailable("no real-time signal at SIG_DFL: fork records will have no stacks");
    }
    while ((state = atomic_load(&signal_state)) == 1) sched_yield();
    if (state != 2) return NOTE_NO_SIGNAL;
    struct sigaction now;
    if (sigaction(stack_signal, NULL, &now) != 0 || !(now.sa_flags & SA_SIGINFO) ||
        now.sa_sigaction != stack_handler)
        return NOTE_REPLACED;
    return NOTE_NONE;
}

static uintptr_t interrupted_pc(void* context) {
    ucontext_t* uc = context;
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.pc;
#else
    (void)uc;
    return 0;
#endif
}

// In the holder thread. backtrace() was called once at load, so libgcc_s is loaded and
// it allocates nothing now; it writes into this thread's stack, then into its slot.
static void stack_handler(int sig, siginfo_t* info, void* context) {
    (void)sig;
    int saved_errno = errno;
    if (info->si_code != SI_TKILL || info->si_pid != getpid()) return;  // not from a fork
    // libgcc's unwinder may take a pthread mutex: hooks track nothing while the slot is
    // hidden (and the guard keeps a child's hooks from writing records from here).
    struct fw_thread* t = fw_self;
    if (t != NULL) atomic_fetch_add_explicit(&t->bt_inside, 1, memory_order_acq_rel);
    int saved_no_slot = fw_no_slot, saved_guard = fw_guard;
    fw_self = NULL;
    fw_no_slot = 1;
    fw_guard = 1;
    if (t != NULL) {
        uint32_t gen = atomic_load_explicit(&t->bt_req, memory_order_acquire);
        void* frames[FW_MAX_FRAMES + 8];
        int n = backtrace(frames, FW_MAX_FRAMES + 8);
        // Skip this handler and the signal trampoline: start at the interrupted pc.
        uintptr_t pc = interrupted_pc(context);
        int start = 0;
        for (int i = 0; i < n && i < 8; i++)
            if ((uintptr_t)frames[i] == pc) {
                start = i;
                break;
            }
        atomic_fetch_add_explicit(&t->bt_seq, 1, memory_order_acq_rel);  // odd: writing
        uint32_t kept = 0;
        for (int i = start; i < n && kept < FW_MAX_FRAMES; i++)
            atomic_store_explicit(&t->bt_frames[kept++], (uintptr_t)frames[i], memory_order_relaxed);
        atomic_store_explicit(&t->bt_n, kept, memory_order_relaxed);
        atomic_fetch_add_explicit(&t->bt_seq, 1, memory_order_acq_rel);  // even: done
        atomic_store_explicit(&t->bt_done, gen, memory_order_release);
        syscall(SYS_futex, &t->bt_done, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
    }
    fw_guard = saved_guard;
    fw_no_slot = saved_no_slot;
    fw_self = t;
    if (t != NULL) atomic_fetch_add_explicit(&t->bt_inside, 1, memory_order_acq_rel);
    errno = saved_errno;
}

static _Atomic uint32_t generation;

static uint32_t request_stack(struct fw_thread* t) {
    uint32_t gen;
    while ((gen = atomic_fetch_add(&generation, 1) + 1) == 0) {
    }
    // A later request wins: its answer also serves earlier ones (generations compare).
    uint32_t cur = atomic_load(&t->bt_req);
    while ((int32_t)(gen - cur) > 0 && !atomic_compare_exchange_weak(&t->bt_req, &cur, gen)) {
    }
    return gen;
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// Waits until the holder has served generation gen or a later one; false at the deadline.
static bool wait_answer(struct fw_thread* t, uint32_t gen, uint64_t deadline) {
    for (;;) {
        uint32_t done = atomic_load_explicit(&t->bt_done, memory_order_acquire);
        if ((int32_t)(done - gen) >= 0) return true;
        uint64_t now = now_ns();
        if (now >= deadline) return false;
        uint64_t left = deadline - now;
        struct timespec rel = {(time_t)(left / 1000000000u), (long)(left % 1000000000u)};
        syscall(SYS_futex, &t->bt_done, FUTEX_WAIT_PRIVATE, done, &rel, NULL, 0);
    }
}

// Copies the holder's frames; a handler answering a later request may be writing them,
// so the copy is taken again until the sequence number says it was not.
static uint32_t copy_stack(struct fw_thread* t, uintptr_t* out) {
    for (int tries = 0; tries < 100; tries++) {
        uint32_t s1 = atomic_load_explicit(&t->bt_seq, memory_order_acquire);
        if (s1 & 1) {
            sched_yield();
            continue;
        }
        uint32_t n = atomic_load_explicit(&t->bt_n, memory_order_relaxed);
        if (n > FW_MAX_FRAMES) n = FW_MAX_FRAMES;
        for (uint32_t i = 0; i < n; i++) out[i] = atomic_load_explicit(&t->bt_frames[i], memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&t->bt_seq, memory_order_relaxed) == s1) return n;
    }
    return 0;
}

// ---- /proc ------------------------------------------------------------------------------

static ssize_t read_file(const char* path, char* buf, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t total = 0, n;
    while ((size_t)total < size - 1 && (n = read(fd, buf + total, size - 1 - (size_t)total)) != 0) {
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        total += n;
    }
    close(fd);
    buf[total] = '\0';
    return total;
}

static void task_path(char* out, pid_t tid, const char* leaf) {
    struct fw_buf b = {out, 0, 64, false};
    fw_put(&b, "/proc/self/task/");
    fw_put_i64(&b, tid);
    fw_put(&b, "/");
    fw_put(&b, leaf);
    out[b.full ? 0 : b.len] = '\0';
}

static void thread_name(pid_t tid, char* out, size_t size) {
    char path[64];
    task_path(path, tid, "comm");
    ssize_t n = read_file(path, out, size);
    if (n <= 0) {
        out[0] = '\0';
        return;
    }
    if (out[n - 1] == '\n') out[n - 1] = '\0';
}

// Whether the thread blocks sig (SigBlk in /proc/self/task/TID/status). While our own
// handler runs there (answering an earlier fork late) every signal is blocked: that is
// not the program blocking it, and the new request is served when the handler returns.
static bool blocks_signal(struct fw_thread* t, pid_t tid, int sig) {
    uint32_t before = atomic_load_explicit(&t->bt_inside, memory_order_acquire);
    char path[64], status[4096];
    task_path(path, tid, "status");
    if (read_file(path, status, sizeof status) <= 0) return false;
    const char* line = strstr(status, "SigBlk:");
    if (line == NULL) return false;
    unsigned long long mask = strtoull(line + 7, NULL, 16);
    uint32_t after = atomic_load_explicit(&t->bt_inside, memory_order_acquire);
    return ((mask >> (sig - 1)) & 1) && before == after && (before & 1) == 0;
}

// ---- snapshot ---------------------------------------------------------------------------

static bool is_sentinel(const struct fw_sentinel* s, size_t n, pid_t tid, uintptr_t addr) {
    for (size_t i = 0; i < n; i++)
        if (s[i].tid == tid && s[i].sem == addr) return true;
    return false;
}

// Appends thread t's hazards as its slot shows them now. Returns how many.
static uint32_t read_hazards(struct snapshot* snap, struct fw_thread* t, pid_t tid,
                             const struct fw_sentinel* sentinels, size_t nsentinels) {
    uint32_t found = 0;
    uintptr_t waiting_on = atomic_load_explicit(&t->waiting_on, memory_order_relaxed);
    uint32_t n = atomic_load_explicit(&t->nheld, memory_order_acquire);
    if (n > FW_MAX_HELD) n = FW_MAX_HELD;
    for (uint32_t j = 0; j < n; j++) {
        struct fw_held* h = &t->held[j];
        uintptr_t word = atomic_load_explicit(&h->word, memory_order_relaxed);
        if (word == 0) continue;
        uintptr_t addr = word & ~FW_KIND_MASK;
        int kind = (int)(word & FW_KIND_MASK);
        // A thread blocked on a semaphore it holds uses it as a signal (Condition.wait).
        if (kind == FW_KIND_SEM && (addr == waiting_on || is_sentinel(sentinels, nsentinels, tid, addr)))
            continue;
        found++;
        if (snap == NULL) continue;
        if (snap->nhazards == FW_MAX_HAZARDS) {
            snap->dropped++;
            continue;
        }
        struct hazard* z = &snap->hazards[snap->nhazards++];
        z->kind = kind;
        z->addr = addr;
        z->ret = atomic_load_explicit(&h->ret, memory_order_relaxed);
        z->holder_tid = tid;
    }
    int call = atomic_load_explicit(&t->libc_call, memory_order_acquire);
    if (call != 0) {
        found++;
        if (snap != NULL && snap->nhazards < FW_MAX_HAZARDS) {
            struct hazard* z = &snap->hazards[snap->nhazards++];
            z->kind = FW_KIND_LIBC_CALL;
            z->call = call;
            z->ret = atomic_load_explicit(&t->libc_call_ret, memory_order_relaxed);
            z->holder_tid = tid;
        } else if (snap != NULL) {
            snap->dropped++;
        }
    }
    if (snap != NULL && found > 0) {
        uint32_t over = atomic_load_explicit(&t->overflow, memory_order_relaxed);
        for (uint32_t i = snap->nhazards; i > 0 && snap->hazards[i - 1].holder_tid == tid; i--)
            snap->hazards[i - 1].overflow = over;
    }
    return found;
}

static void write_pending_record(void);

// Whether any thread other than self holds something, as the slots say now.
static bool others_hold(struct fw_thread* self, uint32_t used, const struct fw_sentinel* sentinels,
                        size_t nsentinels) {
    for (uint32_t i = 0; i < used; i++) {
        struct fw_thread* t = &fw_threads[i];
        pid_t tid = atomic_load_explicit(&t->tid, memory_order_acquire);
        if (tid != 0 && t != self && read_hazards(NULL, t, tid, sentinels, nsentinels) > 0) return true;
    }
    return false;
}

static void fork_prepare(void) {
    if (atomic_load(&fw_mode) == FW_MODE_OFF || fw_guard) return;
    int saved_errno = errno;
    fw_guard = 1;
    if (atomic_load(&fw_mode) == FW_MODE_CHILD) write_pending_record();  // a fork is a call too
    forking = NULL;
    struct fw_thread* self = fw_thread_self();
    uint32_t used = atomic_load_explicit(&fw_threads_used, memory_order_acquire);
    if (!others_hold(self, used, NULL, 0)) goto out;

    struct snapshot* snap = mmap(NULL, sizeof *snap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (snap == MAP_FAILED) {
        fw_hazards_unavailable("mmap of a fork snapshot failed");
        goto out;
    }
    // CPython's thread sentinels are no hazard; perhaps nothing else is held.
    snap->nsentinels = fw_python_sentinels(snap->sentinels, MAX_SENTINELS);
    if (snap->nsentinels > 0 && !others_hold(self, used, snap->sentinels, snap->nsentinels)) {
        munmap(snap, sizeof *snap);
        goto out;
    }
    snap->parent = getpid();
    snap->tid = (pid_t)syscall(SYS_gettid);
    thread_name(snap->tid, snap->thread, sizeof snap->thread);

    // Nothing is waited for here: the fork happens at once, so that the detector does not
    // change the race it reports (asking for stacks first let a holder finish its call and
    // release the lock before the fork). The holders' stacks are asked for by the parent
    // just after the fork (fork_stacks), while the child's copy already has what was held.
    for (uint32_t i = 0; i < used; i++) {
        struct fw_thread* t = &fw_threads[i];
        pid_t tid = atomic_load_explicit(&t->tid, memory_order_acquire);
        if (tid == 0 || t == self) continue;
        uint32_t first = snap->nhazards;
        if (read_hazards(snap, t, tid, snap->sentinels, snap->nsentinels) == 0) continue;
        char name[32];
        thread_name(tid, name, sizeof name);
        for (uint32_t k = first; k < snap->nhazards; k++) {
            memcpy(snap->hazards[k].holder, name, sizeof name);
            snap->hazards[k].note = NOTE_IN_PARENT;
        }
    }
    snap->untracked = atomic_load(&fw_untracked);
    if (snap->nhazards == 0 && snap->dropped == 0) {
        munmap(snap, sizeof *snap);  // all released since the first look
    } else {
        snap->ns = now_ns();
        forking = snap;
    }
out:
    fw_guard = 0;
    errno = saved_errno;
}

// In the parent, just after the fork: each holder's stack, as close to the fork as can be,
// in a record of its own that hangar joins with the child's fork record (parent, tid, ns).
static void write_fork_stacks(struct snapshot* snap) {
    uint32_t used = atomic_load_explicit(&fw_threads_used, memory_order_acquire);
    int signal_note = stacks_enabled ? ensure_signal() : NOTE_DISABLED;
    snap->nholders = 0;
    for (uint32_t k = 0; k < snap->nhazards && snap->nholders < FW_MAX_HAZARDS; k++) {
        pid_t tid = snap->hazards[k].holder_tid;
        bool known = false;
        for (uint32_t j = 0; j < snap->nholders && !known; j++) known = snap->holders[j].tid == tid;
        if (known) continue;
        struct holder* h = &snap->holders[snap->nholders++];
        memset(h, 0, sizeof *h);
        h->tid = tid;
        h->note = signal_note;
        for (uint32_t i = 0; i < used && h->t == NULL; i++)
            if (atomic_load_explicit(&fw_threads[i].tid, memory_order_acquire) == tid) h->t = &fw_threads[i];
        if (h->t == NULL && h->note == NOTE_NONE) h->note = NOTE_GONE;
        if (h->note != NOTE_NONE) continue;
        if (blocks_signal(h->t, tid, stack_signal)) {
            h->note = NOTE_BLOCKED;
            continue;
        }
        h->gen = request_stack(h->t);
        if (syscall(SYS_tgkill, snap->parent, tid, stack_signal) != 0) h->note = NOTE_GONE;
    }
    uint64_t deadline = now_ns() + stack_budget_ns;
    for (uint32_t i = 0; i < snap->nholders; i++) {
        struct holder* h = &snap->holders[i];
        if (h->note != NOTE_NONE) continue;
        if (!wait_answer(h->t, h->gen, deadline)) h->note = NOTE_NO_ANSWER;
        else h->nframes = copy_stack(h->t, h->frames);
    }
    struct fw_buf b = {snap->text, 0, sizeof snap->text - 16, false};
    fw_put(&b, "{\"event\":\"fork_stacks\",\"pid\":");
    fw_put_i64(&b, snap->parent);
    fw_put(&b, ",\"tid\":");
    fw_put_i64(&b, snap->tid);
    fw_put(&b, ",\"ns\":");
    fw_put_u64(&b, snap->ns);
    fw_put(&b, ",\"holders\":[");
    for (uint32_t i = 0; i < snap->nholders; i++) {
        const struct holder* h = &snap->holders[i];
        size_t mark = b.len;
        if (i) fw_put(&b, ",");
        fw_put(&b, "{\"holder_tid\":");
        fw_put_i64(&b, h->tid);
        if (h->note == NOTE_NONE) {
            // Whether it still held what it held at the fork when it answered.
            bool still = h->t != NULL && read_hazards(NULL, h->t, h->tid, snap->sentinels, snap->nsentinels) > 0;
            fw_put(&b, still ? ",\"still_held\":true,\"stack\":[" : ",\"still_held\":false,\"stack\":[");
            bool first = true;
            for (uint32_t f = 0; f < h->nframes; f++) {
                if (fw_is_own_frame(h->frames[f])) continue;
                if (!first) fw_put(&b, ",");
                first = false;
                fw_put_symbol(&b, h->frames[f], f > 0);  // frame 0 is the interrupted pc itself
            }
            fw_put(&b, "]");
        } else {
            fw_put(&b, ",\"stack_note\":");
            const char* text = note_text(h->note);
            fw_put_json_str(&b, text, strlen(text));
        }
        fw_put(&b, "}");
        if (b.full) {  // cut rather than lose the record
            b.full = false;
            b.len = mark;
            break;
        }
    }
    b.cap = sizeof snap->text;
    fw_put(&b, "]}\n");
    if (!b.full) fw_events_write(b.p, b.len);
}

static void fork_parent(void) {
    struct snapshot* snap = forking;
    if (snap == NULL) return;
    forking = NULL;
    if (atomic_load(&fw_mode) != FW_MODE_OFF && !fw_guard) {
        int saved_errno = errno;
        fw_guard = 1;
        write_fork_stacks(snap);
        fw_guard = 0;
        errno = saved_errno;
    }
    munmap(snap, sizeof *snap);
}

static bool same_hazard(const struct hazard* a, const struct hazard* b) {
    return a->holder_tid == b->holder_tid && a->kind == b->kind && a->addr == b->addr && a->call == b->call;
}

// The slots as they were at the very instant of the fork: the child's copy of them. A lock
// taken between the forking thread's last look and the kernel's fork (glibc's own fork
// prologue takes the malloc and stdio locks after the atfork handlers, which can take a
// while) is caught here, with its holder's name read from the parent, but no stack: that
// thread does not exist in the child. Runs in the child, single-threaded: system calls and
// memory only. Returns the snapshot to keep (perhaps a new one), or NULL.
static struct snapshot* add_fork_instant(struct fw_thread* self, uint32_t used, struct snapshot* snap) {
    bool any = false;
    const struct fw_sentinel* sentinels = snap ? snap->sentinels : NULL;
    size_t nsentinels = snap ? snap->nsentinels : 0;
    for (uint32_t i = 0; i < used && !any; i++) {
        struct fw_thread* t = &fw_threads[i];
        pid_t tid = atomic_load_explicit(&t->tid, memory_order_relaxed);
        if (tid != 0 && t != self && read_hazards(NULL, t, tid, sentinels, nsentinels) > 0) any = true;
    }
    if (!any) return snap;
    if (snap == NULL) {
        snap = mmap(NULL, sizeof *snap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (snap == MAP_FAILED) return NULL;
        snap->nsentinels = fw_python_sentinels(snap->sentinels, MAX_SENTINELS);
        snap->parent = getppid();
        snap->tid = self != NULL ? atomic_load(&self->tid) : snap->parent;
        thread_name((pid_t)syscall(SYS_gettid), snap->thread, sizeof snap->thread);
        snap->ns = now_ns();
    }
    for (uint32_t i = 0; i < used; i++) {
        struct fw_thread* t = &fw_threads[i];
        pid_t tid = atomic_load_explicit(&t->tid, memory_order_relaxed);
        if (tid == 0 || t == self) continue;
        uint32_t known = snap->nhazards;
        if (read_hazards(snap, t, tid, snap->sentinels, snap->nsentinels) == 0) continue;
        for (uint32_t k = known; k < snap->nhazards;) {
            bool seen = false;
            for (uint32_t j = 0; j < known && !seen; j++) seen = same_hazard(&snap->hazards[j], &snap->hazards[k]);
            if (seen) {  // already in the snapshot, with its stack
                snap->hazards[k] = snap->hazards[--snap->nhazards];
                continue;
            }
            struct hazard* z = &snap->hazards[k];
            z->note = NOTE_AT_FORK;
            z->nframes = 0;
            char path[96];
            struct fw_buf b = {path, 0, sizeof path, false};
            fw_put(&b, "/proc/");
            fw_put_i64(&b, snap->parent);
            fw_put(&b, "/task/");
            fw_put_i64(&b, tid);
            fw_put(&b, "/comm");
            path[b.full ? 0 : b.len] = '\0';
            char name[32] = {0};
            ssize_t n = read_file(path, name, sizeof name);
            while (n > 0 && (name[n - 1] == '\n' || name[n - 1] == '\0')) name[--n] = '\0';
            memcpy(z->holder, name, sizeof z->holder);
            k++;
        }
    }
    if (snap->nhazards == 0 && snap->dropped == 0) {
        munmap(snap, sizeof *snap);
        return NULL;
    }
    return snap;
}

// In the child, inside fork(), before fork() returns to the program.
static void fork_child(void) {
    if (atomic_load(&fw_mode) == FW_MODE_OFF) return;
    struct fw_thread* self = fw_self;
    uint32_t used = atomic_load(&fw_threads_used);
    forking = add_fork_instant(self, used, forking);
    for (uint32_t i = 0; i < used; i++) {
        struct fw_thread* t = &fw_threads[i];
        if (t == self) continue;
        atomic_store(&t->nheld, 0);
        atomic_store(&t->overflow, 0);
        atomic_store(&t->libc_call, 0);
        atomic_store(&t->waiting_on, 0);
        t->libc_depth = 0;
        atomic_store(&t->tid, 0);
    }
    if (self != NULL) atomic_store(&self->tid, (pid_t)syscall(SYS_gettid));
    atomic_store(&fw_untracked, 0);
    struct snapshot* snap = forking;
    forking = NULL;
    if (snap != NULL) {
        // A grandchild keeps what its parent inherited (those owners are gone too), but
        // its own record is about this fork only.
        if (inherited != NULL) atomic_store(&inherited->record, 2);
        snap->prev = inherited;
        atomic_store(&snap->record, 0);
        inherited = snap;
    } else if (inherited != NULL) {
        atomic_store(&inherited->record, 2);
    }
    atomic_store(&fw_mode, inherited != NULL ? FW_MODE_CHILD : FW_MODE_TRACK);
}

void fw_fork_init(void) {
    const char* stacks = getenv("HANGAR_FORKWATCH_STACKS");
    stacks_enabled = !(stacks && strcmp(stacks, "0") == 0);
    const char* budget = getenv("HANGAR_FORKWATCH_STACK_MS");
    if (budget != NULL) {
        long ms = strtol(budget, NULL, 10);
        if (ms >= 1 && ms <= 10000) stack_budget_ns = (uint64_t)ms * 1000 * 1000;
    }
    // The first backtrace() dlopens libgcc_s; never let that happen in a signal handler.
    void* warm[4];
    backtrace(warm, 4);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

// ---- records (child) --------------------------------------------------------------------

static void put_hazard(struct fw_buf* b, const struct hazard* z, bool with_stack) {
    fw_put(b, "{\"kind\":");
    const char* kind = fw_kind_name(z->kind);
    fw_put_json_str(b, kind, strlen(kind));
    if (z->kind == FW_KIND_LIBC_CALL) {
        const struct fw_call_info* c = fw_call(z->call);
        fw_put(b, ",\"call\":");
        fw_put_json_str(b, c ? c->name : "?", c ? strlen(c->name) : 1);
        fw_put(b, ",\"lock\":");
        fw_put_json_str(b, c ? c->lock : "?", c ? strlen(c->lock) : 1);
    } else {
        fw_put(b, ",\"addr\":");
        fw_put_hex(b, z->addr);
    }
    fw_put(b, ",\"holder_tid\":");
    fw_put_i64(b, z->holder_tid);
    fw_put(b, ",\"holder\":");
    fw_put_json_str(b, z->holder, strnlen(z->holder, sizeof z->holder));
    fw_put(b, ",\"acquired_at\":");
    fw_put_symbol(b, z->ret, true);
    int note = with_stack ? z->note : NOTE_CUT;
    if (note == NOTE_NONE && z->nframes > 0) {
        // The interposers' own frames are left out: the program called glibc, not us.
        fw_put(b, ",\"stack\":[");
        bool first = true;
        for (uint32_t i = 0; i < z->nframes; i++) {
            if (fw_is_own_frame(z->frames[i])) continue;
            if (!first) fw_put(b, ",");
            first = false;
            fw_put_symbol(b, z->frames[i], i > 0);  // frame 0 is the interrupted pc itself
        }
        fw_put(b, "]");
    } else {
        fw_put(b, ",\"stack_note\":");
        const char* text = note_text(note);
        fw_put_json_str(b, text, strlen(text));
    }
    if (z->overflow) {
        fw_put(b, ",\"held_not_recorded\":");
        fw_put_u64(b, z->overflow);
    }
    fw_put(b, "}");
}

static void write_fork_record(struct snapshot* snap) {
    int expected = 0;
    if (!atomic_compare_exchange_strong(&snap->record, &expected, 1)) return;
    // Room kept for the closing fields, so hazards are cut rather than the record.
    struct fw_buf b = {snap->text, 0, sizeof snap->text - 128, false};
    fw_put(&b, "{\"event\":\"fork\",\"pid\":");
    fw_put_i64(&b, getpid());
    fw_put(&b, ",\"parent\":");
    fw_put_i64(&b, snap->parent);
    fw_put(&b, ",\"tid\":");
    fw_put_i64(&b, snap->tid);
    fw_put(&b, ",\"thread\":");
    fw_put_json_str(&b, snap->thread, strnlen(snap->thread, sizeof snap->thread));
    fw_put(&b, ",\"ns\":");
    fw_put_u64(&b, snap->ns);
    fw_put(&b, ",\"hazards\":[");
    uint32_t dropped = snap->dropped, written = 0;
    for (uint32_t i = 0; i < snap->nhazards; i++) {
        size_t mark = b.len;
        if (written) fw_put(&b, ",");
        put_hazard(&b, &snap->hazards[i], true);
        if (b.full) {
            b.full = false;
            b.len = mark;
            if (written) fw_put(&b, ",");
            put_hazard(&b, &snap->hazards[i], false);
        }
        if (b.full) {
            b.full = false;
            b.len = mark;
            dropped++;
            continue;
        }
        written++;
    }
    b.cap = sizeof snap->text;
    fw_put(&b, "]");
    if (dropped) {
        fw_put(&b, ",\"hazards_dropped\":");
        fw_put_u64(&b, dropped);
    }
    if (snap->untracked) {
        fw_put(&b, ",\"untracked_threads\":");
        fw_put_u64(&b, snap->untracked);
    }
    fw_put(&b, "}\n");
    if (!b.full) fw_events_write(b.p, b.len);
    atomic_store(&snap->record, 2);
}

static void write_pending_record(void) {
    struct snapshot* snap = inherited;
    if (snap != NULL && atomic_load(&snap->record) == 0) write_fork_record(snap);
}

static void write_inherited_wait(const struct snapshot* snap, const struct hazard* z, int entered,
                                 uintptr_t at) {
    char text[2048];
    struct fw_buf b = {text, 0, sizeof text, false};
    fw_put(&b, "{\"event\":\"inherited_wait\",\"pid\":");
    fw_put_i64(&b, getpid());
    fw_put(&b, ",\"tid\":");
    fw_put_i64(&b, (int64_t)syscall(SYS_gettid));
    fw_put(&b, ",\"parent\":");
    fw_put_i64(&b, snap->parent);
    fw_put(&b, ",\"kind\":");
    const char* kind = fw_kind_name(z->kind);
    fw_put_json_str(&b, kind, strlen(kind));
    if (z->kind == FW_KIND_LIBC_CALL) {
        const struct fw_call_info* held = fw_call(z->call);
        const struct fw_call_info* now = fw_call(entered);
        fw_put(&b, ",\"call\":");
        fw_put_json_str(&b, held ? held->name : "?", held ? strlen(held->name) : 1);
        if (now != NULL && now != held) {
            fw_put(&b, ",\"entered\":");
            fw_put_json_str(&b, now->name, strlen(now->name));
        }
        fw_put(&b, ",\"lock\":");
        fw_put_json_str(&b, held ? held->lock : "?", held ? strlen(held->lock) : 1);
    } else {
        fw_put(&b, ",\"addr\":");
        fw_put_hex(&b, z->addr);
    }
    fw_put(&b, ",\"holder_tid\":");
    fw_put_i64(&b, z->holder_tid);
    fw_put(&b, ",\"holder\":");
    fw_put_json_str(&b, z->holder, strnlen(z->holder, sizeof z->holder));
    fw_put(&b, ",\"at\":");
    fw_put_symbol(&b, at, true);
    fw_put(&b, "}\n");
    if (!b.full) fw_events_write(b.p, b.len);
}

// Whether taking `kind` waits for a holder of `held`: readers do not wait for readers.
static bool conflicts(int kind, int held) {
    return !(kind == FW_KIND_RWLOCK_READ && held == FW_KIND_RWLOCK_READ);
}

void fw_child_hook(int kind, const void* addr, int call, bool blocking, uintptr_t ret) {
    if (fw_guard) return;
    int saved_errno = errno;
    fw_guard = 1;
    write_pending_record();
    if (blocking) {
        const struct fw_call_info* entering = kind == FW_KIND_LIBC_CALL ? fw_call(call) : NULL;
        for (struct snapshot* snap = inherited; snap != NULL; snap = snap->prev) {
            for (uint32_t i = 0; i < snap->nhazards; i++) {
                struct hazard* z = &snap->hazards[i];
                if (atomic_load(&z->forgotten) || atomic_load(&z->waited)) continue;
                bool match;
                if (kind == FW_KIND_LIBC_CALL) {
                    const struct fw_call_info* held = fw_call(z->call);
                    match = z->kind == FW_KIND_LIBC_CALL && entering && held && held->group == entering->group;
                } else {
                    match = z->kind != FW_KIND_LIBC_CALL && z->addr == (uintptr_t)addr && conflicts(kind, z->kind);
                }
                if (!match || atomic_exchange(&z->waited, true)) continue;
                write_inherited_wait(snap, z, call, ret);
            }
        }
    }
    fw_guard = 0;
    errno = saved_errno;
}

// May run in a signal handler (sem_post): stores only.
void fw_child_forget(const void* addr) {
    for (struct snapshot* snap = inherited; snap != NULL; snap = snap->prev)
        for (uint32_t i = 0; i < snap->nhazards; i++)
            if (snap->hazards[i].kind != FW_KIND_LIBC_CALL && snap->hazards[i].addr == (uintptr_t)addr)
                atomic_store(&snap->hazards[i].forgotten, true);
}
