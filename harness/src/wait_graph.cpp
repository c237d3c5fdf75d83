#include "hangar/wait_graph.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <set>

namespace hangar {
namespace {

using Kind = BlockingCall::Kind;

constexpr uint32_t kFutexTidMask = 0x3fffffff;  // a PI or robust futex word holds its owner's tid
constexpr uint64_t kSigalrm = uint64_t{1} << (SIGALRM - 1);
constexpr uint64_t kSigio = uint64_t{1} << (SIGIO - 1);
constexpr uint64_t kSigurg = uint64_t{1} << (SIGURG - 1);
constexpr int kMaxEpollDepth = 4;

std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
    return buf;
}

// Whether a thread sleeping in kernel function `wchan` cannot be waiting on a file of kind
// `kind`: the function is specific to another kind of file, or not the pipe function every
// pipe wait sleeps in.
bool sleeps_in_other_kind(const std::string& wchan, FdFacts::Kind kind) {
    using K = FdFacts::Kind;
    if (kind == K::path) return false;  // a named FIFO sleeps in pipe functions too
    static const std::pair<const char*, K> specific[] = {
        {"pipe_", K::pipe},          {"timerfd", K::timerfd}, {"eventfd", K::eventfd}, {"signalfd", K::signalfd},
        {"inotify", K::inotify},     {"unix_", K::socket},    {"sk_wait", K::socket},  {"sk_stream", K::socket},
        {"inet_csk", K::socket},     {"tcp_", K::socket},
    };
    for (const auto& [word, k] : specific)
        if (wchan.find(word) != std::string::npos) return k != kind;
    // Every blocking pipe read or write sleeps in a pipe function (anon_pipe_read...); a
    // timerfd's read, for one, sleeps in do_wait_intr_irq. An unreadable wchan says "0".
    return kind == K::pipe && !wchan.empty() && wchan != "0";
}

std::string pid_list(const std::set<pid_t>& pids, pid_t self) {
    std::string s;
    size_t i = 0;
    for (pid_t p : pids) {
        s += (i == 0 ? "" : i + 1 == pids.size() ? " and " : ", ") + std::string("pid ") + std::to_string(p);
        if (p == self) s += " (itself)";
        ++i;
    }
    return s.empty() ? "no process" : s;
}

// The processes that could end a wait on one file, or why someone hangar cannot see may.
struct Side {
    bool outside = false;
    std::string why;        // when outside
    std::set<pid_t> pids;   // else
    std::string who;        // "whose writers are pid 43"
    std::optional<Timeout> timeout;  // an armed timerfd: it becomes ready by itself
    std::set<std::string> keys;      // what a process outside could hold to end the wait (held_outside)
};

Side outside(std::string why) {
    Side s;
    s.outside = true;
    s.why = std::move(why);
    return s;
}

enum class Direction { read, write, either };

class Builder {
public:
    Builder(const std::vector<ProcessState>& tree, FactsSource& facts, const WaitGraph::Options& options,
            std::vector<WaitNode>& nodes)
        : tree_(tree), facts_(facts), options_(options), nodes_(nodes) {
        for (const auto& p : tree) {
            parent_[p.pid] = p.ppid;
            for (const auto& t : p.threads) {
                WaitNode n;
                n.pid = p.pid;
                n.tid = t.tid;
                n.comm = t.comm;
                n.cpu_time = t.cpu_time;
                n.wchan = t.wchan;
                by_pid_[p.pid].push_back(nodes_.size());
                nodes_.push_back(std::move(n));
            }
        }
    }

    bool stop() const { return options_.stop_at_first_live && any_live_; }
    bool any_live() const { return any_live_; }

    void live(size_t i, std::string because) {
        WaitNode& n = nodes_[i];
        if (n.live_by_itself) return;
        n.live = n.live_by_itself = true;
        n.because = std::move(because);
        any_live_ = true;
    }

    void live_process(pid_t pid, const std::string& because) {
        for (size_t i : by_pid_[pid])
            if (nodes_[i].call.kind != Kind::gone) live(i, because);
    }

    // Phase 1: each thread's call, and what its call alone says.
    void decode_calls() {
        size_t i = 0;
        for (const auto& p : tree_)
            for (const auto& t : p.threads) {
                const size_t at = i++;
                ProcessFacts& pf = facts_.process(p.pid);
                nodes_[at].call = decode_call(t, [&pf](uint64_t a, void* out, size_t n) {
                    return pf.read_memory(a, out, n);
                });
                judge_call(at, p, t);
                if (stop()) return;
            }
    }

    // Phase 2: what each process as a whole says (its ABI, a tracer, POSIX timers), and
    // whether its timed futex waits are waits for the GIL.
    void judge_processes() {
        for (const auto& p : tree_) {
            ProcessFacts& pf = facts_.process(p.pid);
            // A stack above 4 GiB is a 64-bit process's; only otherwise is its executable read.
            bool wide = false;
            for (const auto& t : p.threads) wide |= t.sp > 0xffffffffull;
            if (!wide && !pf.native_abi()) {
                live_process(p.pid, "is a process of another ABI (32-bit?), whose system calls hangar does not decode");
            } else if (pid_t tracer = pf.signals().tracer; tracer && !parent_.count(tracer)) {
                live_process(p.pid, "is traced by pid " + std::to_string(tracer) +
                                        ", outside the tree, which may change or resume it at any time");
            } else if (pf.signals().caught & (kSigio | kSigurg)) {
                // The kernel sends these for events on files (O_ASYNC, F_SETOWN, F_NOTIFY's
                // directory changes, a socket's urgent data) that may come from outside,
                // and a handler may end any wait of the process.
                live_process(p.pid, "catches SIGIO or SIGURG, which the kernel may send for events outside the tree");
            } else if (std::string why = kernel_works_for(pf); !why.empty()) {
                live_process(p.pid, why);
            } else if (int timers = pf.notifying_timers(); timers > 0) {
                // /proc/PID/timers: a POSIX timer's expiry signals (or starts a thread in)
                // this process, and any of its waits may end then.
                live_process(p.pid, "has " + std::to_string(timers) +
                                        " POSIX timer(s) (/proc/PID/timers) whose expiry may wake it");
            }
            if (stop()) return;
        }
        for (size_t i : maybe_gil_) {
            WaitNode& n = nodes_[i];
            if (n.live) continue;
            if (facts_.system().gil_wait(facts_.process(n.pid), n.call.address)) {
                // CPython's take_gil: a 5 ms condition wait, repeated, that only the GIL's
                // holder ends by releasing it; on each timeout the waiter only asks the
                // holder to drop the GIL. The holder is another thread of this process.
                n.gil = true;
            } else {
                live(i, timed_because(n.call.timeout));
            }
            if (stop()) return;
        }
    }

    // Requests the kernel completes on its own time, which may write any file, wake any
    // futex or post to an eventfd the process waits on: io_uring and Linux AIO.
    static std::string kernel_works_for(ProcessFacts& pf) {
        for (const auto& f : pf.fds())
            if (f.target == "anon_inode:[io_uring]")
                return "has an io_uring instance (fd " + std::to_string(f.fd) +
                       "): the kernel completes its requests in its own time";
        for (const auto& m : pf.maps())
            if (m.path.rfind("/[aio]", 0) == 0) return "has a Linux AIO context: the kernel completes its requests in its own time";
        return {};
    }

    // Phase 3: the resource each remaining wait is on, and who could end it.
    void resolve() {
        for (size_t i = 0; i < nodes_.size(); ++i) {
            if (nodes_[i].live) continue;
            switch (nodes_[i].call.kind) {
                case Kind::futex: resolve_futex(i); break;
                case Kind::fd_io: resolve_io(i); break;
                case Kind::fd_poll: resolve_poll(i); break;
                case Kind::child: resolve_child(i); break;
                case Kind::file_lock: resolve_file_lock(i); break;
                case Kind::sleep:
                    nodes_[i].waits = "sleeps with " + describe(nodes_[i].call.timeout, options_.now) +
                                      ", past the run's time limit";
                    break;
                default: break;
            }
            if (stop()) return;
        }
        // O_ASYNC: the kernel signals the owner when the file is ready, which may end any of
        // its waits; what makes the file ready may come from outside.
        for (const auto& p : tree_)
            for (const auto& f : facts_.process(p.pid).fds())
                if (f.async) {
                    live_process(p.pid, "has fd " + std::to_string(f.fd) + " in O_ASYNC mode: SIGIO when it is ready");
                    break;
                }
    }

    // Phase 4: alarm() and setitimer(ITIMER_REAL) leave no trace in the process's /proc
    // files; /proc/timer_list lists every pending one of the machine (it_real_fn), though
    // not whose it is. A pending alarm that can fire before the run's limit may end any
    // wait of a process that does not ignore SIGALRM: by its handler, or by killing it.
    // Without /proc/timer_list (not root), only a caught SIGALRM is seen: a default
    // SIGALRM, which would kill the process when an alarm fires, is the blind spot.
    void judge_alarms() {
        const AlarmFacts& alarms = facts_.system().alarms();
        const bool pending = alarms.soonest &&
                             (!options_.window || options_.now + *alarms.soonest < options_.window->deadline);
        for (const auto& p : tree_) {
            const SignalFacts& sig = facts_.process(p.pid).signals();
            if (alarms.readable && pending && !(sig.ignored & kSigalrm))
                live_process(p.pid, "does not ignore SIGALRM, and an alarm is pending on this machine (in " +
                                        human_duration(*alarms.soonest) + ", /proc/timer_list): it may be woken or killed");
            else if (!alarms.readable && (sig.caught & kSigalrm))
                live_process(p.pid, "catches SIGALRM, and hangar cannot read /proc/timer_list to see whether an "
                                    "alarm is pending");
            if (stop()) return;
        }
    }

    // Phase 5, only when nothing is live yet: a file or memory of the run that a process
    // outside it also holds (sent out over a Unix socket, closed since) may end a wait.
    void judge_outside_holders() {
        std::set<std::string> keys;
        for (const auto& n : nodes_)
            if (!n.live) keys.insert(n.resources.begin(), n.resources.end());
        if (keys.empty()) return;
        if (unix_socket_to_outside()) {
            // A file sent out over a socket may still be in flight, or held by a process
            // hangar may not read: while the tree can talk to outside, every file counts.
            for (size_t i = 0; i < nodes_.size(); ++i)
                for (const auto& key : nodes_[i].resources)
                    if (!nodes_[i].live && key.rfind("zero:", 0) != 0) {
                        live(i, "waits on " + key + ", and the tree has a Unix socket to outside over which it "
                                                    "may have sent it");
                        if (stop()) return;
                    }
            return;
        }
        std::set<pid_t> inside;
        for (const auto& p : tree_) inside.insert(p.pid);
        const auto held = facts_.system().held_outside(inside, keys);
        for (size_t i = 0; i < nodes_.size() && !held.empty(); ++i)
            for (const auto& key : nodes_[i].resources)
                if (auto it = held.find(key); it != held.end() && !nodes_[i].live) {
                    live(i, "waits on " + key + ", which pid " + std::to_string(it->second) +
                                " outside the tree holds too: it may end the wait");
                    if (stop()) return;
                }
    }

    // Phase 6: the fixpoint: a wait that a live thread could end is live too.
    void propagate() {
        for (bool changed = true; changed;) {
            changed = false;
            for (auto& n : nodes_) {
                if (n.live) continue;
                for (size_t w : n.wakers)
                    if (nodes_[w].live) {
                        n.live = true;
                        n.live_through = w;
                        changed = true;
                        break;
                    }
            }
        }
    }

private:
    std::string timed_because(const Timeout& t) const {
        if (t.kind == Timeout::Kind::relative)
            return "wakes within " + human_duration(t.value) + " of its call" + before_limit() + ", and could act";
        if (t.kind == Timeout::Kind::unknown) return "has a timeout hangar cannot read (" + t.why_unknown + ") and may wake and act";
        return "wakes at its deadline (" + describe(t, options_.now) + ")" + before_limit() + ", and could act";
    }

    // Whether `address` lies in the stack of a thread whose stack pointer is `sp`: at or
    // above it (less the 128-byte red zone), in the same mapping.
    bool on_own_stack(pid_t pid, uint64_t sp, uint64_t address) {
        const Mapping* m = sp ? facts_.process(pid).mapping(sp) : nullptr;
        return m && address + 128 >= sp && address < m->end;
    }

    // Without a window every timeout counts (the question is then whether anything can ever act).
    std::string before_limit() const { return options_.window ? ", before the run's limit" : ""; }

    bool in_time(const Timeout& t) const { return may_end_in_time(t, options_.window, options_.now); }

    void judge_call(size_t i, const ProcessState& p, const ThreadState& t) {
        WaitNode& n = nodes_[i];
        const BlockingCall& c = n.call;
        if (c.timeout.kind == Timeout::Kind::absolute &&
            (c.timeout.clock == CLOCK_MONOTONIC || c.timeout.clock == CLOCK_BOOTTIME) &&
            facts_.process(p.pid).clocks_offset())
            return live(i, "waits until a deadline on a clock its time namespace offsets from hangar's: hangar "
                           "cannot place it, and it may wake and act");
        // A timeout that would keep the thread asleep past the limit, read from memory that
        // is not the waiting thread's own stack: another thread may have rewritten it after
        // the kernel copied it, so hangar cannot know what the kernel waits for.
        if (c.timeout.read_at && !in_time(c.timeout) &&
            (p.threads.size() > 1 || !on_own_stack(p.pid, t.sp, c.timeout.read_at)))
            return live(i, "has a timeout read from memory now (0x" + hex(c.timeout.read_at) +
                           "), which another thread may have rewritten since the call copied it: it may wake and act");
        switch (c.kind) {
            case Kind::running: return live(i, "is running");
            case Kind::uninterruptible: return live(i, "is in uninterruptible sleep: the kernel works for it");
            case Kind::stopped: return live(i, "is stopped: whoever stopped it may continue it");
            case Kind::gone: return;
            case Kind::other: return live(i, "is in " + describe(c, options_.now));
            case Kind::signal: return live(i, "waits for a signal, which may come from outside the tree");
            case Kind::file_lock: return;  // phase 3
            case Kind::sleep:
                if (in_time(c.timeout)) live(i, timed_because(c.timeout));
                return;
            case Kind::futex:
                if (!in_time(c.timeout)) return;
                // A Python thread's timed private wait may be a wait for the GIL: phase 2.
                if (p.is_python() && c.futex_private && c.futex_cmd == 9 /*FUTEX_WAIT_BITSET*/) {
                    maybe_gil_.push_back(i);
                    return;
                }
                return live(i, timed_because(c.timeout));
            case Kind::fd_io:
            case Kind::fd_poll:
            case Kind::child:
                if (in_time(c.timeout)) live(i, timed_because(c.timeout));
                return;
        }
    }

    std::vector<size_t> others_in(pid_t pid, size_t self, bool skip_gil = false) {
        std::vector<size_t> out;
        for (size_t j : by_pid_[pid])
            if (j != self && nodes_[j].call.kind != Kind::gone && !(skip_gil && nodes_[j].gil)) out.push_back(j);
        return out;
    }

    void wake_by_processes(size_t i, const std::set<pid_t>& pids) {
        for (pid_t p : pids)
            for (size_t j : others_in(p, i)) nodes_[i].wakers.push_back(j);
        nodes_[i].other_side.assign(pids.begin(), pids.end());
    }

    // A pthread mutex's owner from the futex word's surroundings, when the wait is glibc's
    // lll_lock_wait (FUTEX_WAIT for the value 2; lll_clocklock_wait for timedlock waits
    // with the bitset) and the 40 bytes there read as a held pthread_mutex_t (glibc
    // x86_64/aarch64: __lock, __count, __owner, __nusers, __kind, __spins, __elision,
    // __list): an owner tid and at least one user, a kind glibc knows, a count that fits
    // the kind, no spin or elision count it would not keep, an empty robust list unless
    // robust. glibc's internal locks are bare ints that wait the same way, followed by
    // whatever lies next to them: words in glibc's own memory are never taken for a
    // mutex, and the caller accepts an owner only where it names a thread (mutex_note).
    std::optional<pid_t> mutex_owner(ProcessFacts& pf, const BlockingCall& c) {
        if (c.futex_cmd == 6 /*LOCK_PI*/ || c.futex_cmd == 13 /*LOCK_PI2*/) {
            // The kernel's own protocol: a PI futex word holds its owner's tid.
            uint32_t word = 0;
            if (!pf.read_memory(c.address, &word, sizeof word) || !(word & kFutexTidMask)) return std::nullopt;
            return static_cast<pid_t>(word & kFutexTidMask);
        }
        if (c.futex_cmd != 0 && c.futex_cmd != 9) return std::nullopt;
        if (c.futex_value != 2 && !(c.futex_value & kFutexTidMask)) return std::nullopt;  // sem_t, condvars
        struct {
            int32_t lock, count, owner, users, kind;
            int16_t spins, elision;
            uint64_t prev, next;
        } m{};
        static_assert(sizeof m == 40);
        if (!pf.read_memory(c.address, &m, sizeof m)) return std::nullopt;
        constexpr int32_t type_bits = 3, robust = 16, pshared = 128, elision = 256, no_elision = 512;
        const int32_t type = m.kind & type_bits;
        if (m.kind & ~(type_bits | robust | pshared | elision | no_elision)) return std::nullopt;
        if (m.owner <= 0 || m.owner >= (1 << 22) || m.users < 1 || m.users > (1 << 16)) return std::nullopt;
        if (type == 1 /*recursive*/ ? m.count < 1 : m.count != 0) return std::nullopt;
        if ((type != 3 /*adaptive*/ && m.spins != 0) || (!(m.kind & elision) && m.elision != 0)) return std::nullopt;
        if (!(m.kind & robust)) {
            if (m.prev || m.next || c.futex_value != 2 || m.lock != 2) return std::nullopt;
        } else {
            // A robust mutex's word holds its owner's tid, and its waiters wait for that value.
            const uint32_t tid = static_cast<uint32_t>(m.owner);
            if ((static_cast<uint32_t>(m.lock) & kFutexTidMask) != tid || (c.futex_value & kFutexTidMask) != tid)
                return std::nullopt;
        }
        if (in_glibc(pf, c.address)) return std::nullopt;
        return m.owner;
    }

    // glibc's (and its loader's) own data and .bss: the anonymous mapping right after one
    // of their file mappings is its .bss.
    static bool in_glibc(ProcessFacts& pf, uint64_t address) {
        auto glibc = [](const Mapping& m) {
            const std::string base = m.path.substr(m.path.rfind('/') + 1);
            return base.rfind("libc.so", 0) == 0 || base.rfind("libc-", 0) == 0 || base.rfind("ld-linux", 0) == 0 ||
                   base.rfind("ld-2.", 0) == 0 || base.rfind("ld64.so", 0) == 0;
        };
        const auto& maps = pf.maps();
        for (size_t k = 0; k < maps.size(); ++k) {
            if (address < maps[k].start || address >= maps[k].end) continue;
            if (glibc(maps[k])) return true;
            return maps[k].path.empty() && k > 0 && maps[k - 1].end == maps[k].start && glibc(maps[k - 1]);
        }
        return false;
    }

    void resolve_futex(size_t i) {
        WaitNode& n = nodes_[i];
        ProcessFacts& pf = facts_.process(n.pid);
        const BlockingCall& c = n.call;
        if (n.gil) {
            n.waits = "waits for the GIL (futex " + hex(c.address) + ")";
            n.enders = "which only the thread holding the GIL, another thread of pid " + std::to_string(n.pid) +
                       ", can release";
            n.wakers = others_in(n.pid, i, /*skip_gil=*/true);
            return;
        }
        bool local = c.futex_private;
        std::string where;
        if (!local) {
            const Mapping* m = pf.mapping(c.address);
            if (!m) return live(i, "waits on a futex at " + hex(c.address) + ", in no mapping hangar can see");
            // A futex without FUTEX_PRIVATE_FLAG in private, writable memory: the kernel keys
            // it by (mm, address) (get_futex_key: an anonymous, copied-on-write page), so
            // only threads of this process can wake it: libstdc++'s std::future waits so.
            if (!m->shared() && m->writable()) {
                local = true;
            } else if (m->named_file()) {
                return live(i, "waits on a process-shared futex in " + m->path +
                                   ", which processes outside the tree may map and wake");
            } else if (m->path != "/dev/zero (deleted)" && unix_socket_to_outside()) {
                // A memfd or a deleted file: only its holders can map it, and an open file
                // can be sent over a Unix socket. Shared anonymous memory cannot (it is
                // inherited only); a file deleted before anyone outside opened it is
                // reachable only through such a socket.
                return live(i, "waits on a process-shared futex in " + m->path +
                                   ", a file the tree may have sent out over its Unix socket to outside");
            } else {
                where = m->path.empty() ? "shared anonymous memory" : m->path;
                // Shared anonymous memory ("zero:") has no file to send: only inherited.
                if (m->inode)
                    n.resources.insert((m->path == "/dev/zero (deleted)" ? "zero:" : "map:") + m->dev + ":" +
                                       std::to_string(m->inode));
            }
        }
        if (!local) {
            n.waits = "waits on process-shared futex " + hex(c.address) + " in " + where;
            n.enders = "which any process of the tree that maps it could wake";
            for (size_t j = 0; j < nodes_.size(); ++j)
                if (j != i && nodes_[j].call.kind != Kind::gone) n.wakers.push_back(j);
            return;
        }
        // Only threads of this process can reach the word (a vfork child shares its memory
        // too, but its parent is in D, live, until the child execs or exits).
        n.waits = "waits on futex " + hex(c.address) +
                  (c.futex_private ? "" : " (no FUTEX_PRIVATE_FLAG, but in private memory)");
        if (auto owner = mutex_owner(pf, c)) {
            for (size_t j : by_pid_[n.pid])
                if (pf.own_tid(nodes_[j].tid) == *owner) {
                    n.owner = *owner;
                    n.wakers = {j};
                    n.enders = "a pthread mutex held by thread " + std::to_string(nodes_[j].tid) + " of this process";
                    return;
                }
            // Only an owner that is a thread fork left behind, or older than the process, is
            // claimed: words that merely look like a mutex name no thread at all.
            if (auto note = owner_elsewhere(n.pid, *owner)) {
                n.owner = *owner;
                n.owner_outside = true;
                n.owner_note = *note;
                n.enders = "a pthread mutex held by tid " + std::to_string(*owner) + ", " + n.owner_note;
                return;  // no thread can release it
            }
        }
        n.enders = "which only threads of pid " + std::to_string(n.pid) + " can wake";
        n.wakers = others_in(n.pid, i);
    }

    // The owner tid is no thread of `pid`: where it is, if it is a thread of the tree that
    // fork did not copy, or an id older than the process; nullopt otherwise.
    std::optional<std::string> owner_elsewhere(pid_t pid, pid_t owner) {
        for (const auto& p : tree_) {
            if (p.pid == pid) continue;
            ProcessFacts& other = facts_.process(p.pid);
            for (const auto& t : p.threads)
                if (other.own_tid(t.tid) == owner)
                    return "owner not in this process: held across fork (it is thread " + std::to_string(t.tid) +
                           " of pid " + std::to_string(p.pid) + (parent_[pid] == p.pid ? ", its parent" : "") +
                           ", which fork did not copy)";
        }
        // A namespace hands out ids in increasing order (until they wrap at pid_max): an
        // owner id below the process's own was taken before the process existed, by a
        // thread of its parent at fork time, never by a thread of its own.
        const pid_t own = facts_.process(pid).own_tid(pid);
        if (parent_.count(parent_[pid]) && own > 0 && owner < own)
            return "owner not in this process: held across fork (tid " + std::to_string(owner) +
                   " is older than the process, pid " + std::to_string(own) + " in its namespace)";
        return std::nullopt;
    }

    // Whether a process of the tree holds a Unix socket that could carry a file to a
    // process outside it: one whose peer is outside, or that is not connected.
    bool unix_socket_to_outside() {
        if (talks_outside_) return *talks_outside_;
        index_files();
        talks_outside_ = false;
        for (const auto& p : tree_)
            for (const auto& f : facts_.process(p.pid).fds()) {
                if (f.kind != FdFacts::Kind::socket) continue;
                auto sock = facts_.process(p.pid).socket(f.fd);
                if (!sock) return *(talks_outside_ = true);
                if (sock->domain != AF_UNIX) continue;
                auto u = facts_.system().unix_socket(f.inode);
                if (!u || u->listening || !u->peer || !sockets_.count(u->peer)) return *(talks_outside_ = true);
            }
        return *talks_outside_;
    }

    void index_files() {
        if (indexed_) return;
        indexed_ = true;
        for (const auto& p : tree_)
            for (const auto& f : facts_.process(p.pid).fds()) {
                if (f.kind == FdFacts::Kind::pipe) pipes_[f.inode].push_back({p.pid, f.access});
                else if (f.kind == FdFacts::Kind::socket) sockets_[f.inode].insert(p.pid);
                else if (f.kind == FdFacts::Kind::eventfd && f.eventfd_id) eventfds_[f.eventfd_id].insert(p.pid);
            }
    }

    Side side_of(pid_t pid, const FdFacts& f, Direction dir, int depth) {
        index_files();
        const std::string fd = "fd " + std::to_string(f.fd);
        using K = FdFacts::Kind;
        switch (f.kind) {
            case K::pipe: {
                if (dir == Direction::either)
                    dir = f.access == O_RDONLY ? Direction::read : f.access == O_WRONLY ? Direction::write
                                                                                         : Direction::either;
                Side s;
                for (const auto& [holder, access] : pipes_[f.inode]) {
                    const bool reads = access != O_WRONLY, writes = access != O_RDONLY;
                    if ((dir != Direction::write && writes) || (dir != Direction::read && reads)) s.pids.insert(holder);
                }
                const char* end = dir == Direction::read ? "write" : dir == Direction::write ? "read" : "other";
                if (s.pids.empty())
                    return outside(f.target + "'s " + end + " end is held by no process of the tree: it is "
                                   "outside the tree (hangar's own output pipes), or in flight in a socket");
                s.keys = {f.target};
                s.who = std::string(dir == Direction::read ? "whose writers are " : dir == Direction::write
                                                                                        ? "whose readers are "
                                                                                        : "whose other holders are ") +
                        pid_list(s.pids, pid);
                return s;
            }
            case K::socket: return socket_side(pid, f);
            case K::eventfd: {
                Side s;
                s.pids = eventfds_[f.eventfd_id];
                s.pids.insert(pid);
                s.keys = {"eventfd:" + std::to_string(f.eventfd_id)};
                s.who = "whose holders are " + pid_list(s.pids, pid);
                return s;
            }
            case K::timerfd: {
                Side s;
                if (f.timer_left) s.timeout = Timeout::at((options_.now + *f.timer_left).time_since_epoch(), CLOCK_MONOTONIC);
                s.pids = {pid};
                s.who = f.timer_left ? "an armed timerfd" : "a disarmed timerfd that only its process may arm";
                return s;
            }
            case K::signalfd: return outside(fd + " is a signalfd: signals may come from outside the tree");
            case K::pidfd: {
                if (f.pidfd_pid > 0 && parent_.count(f.pidfd_pid)) {
                    Side s;
                    s.pids = {f.pidfd_pid};
                    s.who = "a pidfd of pid " + std::to_string(f.pidfd_pid);
                    return s;
                }
                return outside(fd + " is a pidfd of a process outside the tree, or one that ended");
            }
            case K::epoll: {
                if (depth >= kMaxEpollDepth) return outside(fd + ": epoll sets nested deeper than hangar follows");
                Side all;
                all.pids = {pid};  // its own threads may add to the set
                ProcessFacts& pf = facts_.process(pid);
                for (const auto& target : f.epoll) {
                    // fdinfo names each watched file by the number it had when it was added;
                    // the inode tells whether that number still means it.
                    const FdFacts* watched = pf.fd(target.fd);
                    if (!watched || watched->inode != target.inode)
                        return outside(fd + " (epoll) watches a file no longer open as fd " + std::to_string(target.fd));
                    // Anonymous inodes (eventfd, timerfd...) share one inode number: only
                    // the kernel can say that the number still means the watched file.
                    if (auto same = pf.epoll_watches(f.fd, target.fd, target.fd); !same || !*same)
                        return outside(fd + " (epoll) watches a file that fd " + std::to_string(target.fd) +
                                       (same ? " no longer is" : " may no longer be (kcmp cannot tell)"));
                    Side s = side_of(pid, *watched, Direction::either, depth + 1);
                    if (s.outside) return s;
                    if (s.timeout && in_time(*s.timeout)) return s;
                    all.pids.insert(s.pids.begin(), s.pids.end());
                    all.keys.insert(s.keys.begin(), s.keys.end());
                }
                all.who = "whose watched files' other ends are held by " + pid_list(all.pids, pid);
                return all;
            }
            case K::inotify: return outside(fd + " reports file system events, which may come from outside the tree");
            case K::path:
                if (f.fifo) return outside(f.target + " is a named FIFO: any process may open its other end");
                return outside(f.target + " is a file or device: hangar cannot see what ends the wait");
            case K::other: break;
        }
        return outside(fd + " (" + f.target + ") is a kind of file hangar does not model");
    }

    Side holders_of_peer(pid_t pid, uint64_t peer, const std::string& what) {
        Side s;
        auto it = sockets_.find(peer);
        if (it == sockets_.end() || it->second.empty())
            return outside(what + "'s peer socket:[" + std::to_string(peer) +
                           "] is held by no process of the tree: it is outside, or in flight");
        s.pids = it->second;
        s.keys = {"socket:[" + std::to_string(peer) + "]"};
        s.who = "whose peer socket:[" + std::to_string(peer) + "] is held by " + pid_list(s.pids, pid);
        return s;
    }

    Side socket_side(pid_t pid, const FdFacts& f) {
        auto sock = facts_.process(pid).socket(f.fd);
        if (!sock) return outside(f.target + ": its options could not be read");
        if (sock->listening) return outside(f.target + " listens: any process may connect");
        if (sock->domain == AF_UNIX) {
            auto u = facts_.system().unix_socket(f.inode);
            if (!u) return outside(f.target + ": the kernel's socket table does not show it");
            if (!u->peer)
                return outside(f.target + " is not connected" + (u->named ? " and has a name: anyone may send to it" : ""));
            return holders_of_peer(pid, u->peer, f.target);
        }
        if ((sock->domain == AF_INET || sock->domain == AF_INET6) && sock->type == SOCK_STREAM) {
            auto peer = facts_.system().tcp_peer(pid, f.inode);
            if (!peer) return outside(f.target + " is connected to a TCP peer outside the tree");
            Side s = holders_of_peer(pid, *peer, f.target);
            // The kernel aborts a connection when sent data stays unacknowledged
            // TCP_USER_TIMEOUT long, at either end, which ends every wait on it.
            auto user_timeout = sock->tcp_user_timeout;
            for (pid_t holder : s.pids)
                for (const auto& other : facts_.process(holder).fds())
                    if (other.kind == FdFacts::Kind::socket && other.inode == *peer)
                        if (auto peer_sock = facts_.process(holder).socket(other.fd);
                            peer_sock && peer_sock->tcp_user_timeout.count() > 0 &&
                            (user_timeout.count() == 0 || peer_sock->tcp_user_timeout < user_timeout))
                            user_timeout = peer_sock->tcp_user_timeout;
            if (user_timeout.count() > 0) {
                s.timeout = Timeout::relative_to_call(user_timeout);
                s.who += " (TCP_USER_TIMEOUT " + human_duration(user_timeout) + ")";
            }
            return s;
        }
        return outside(f.target + " is a socket whose peers hangar does not follow (domain " +
                       std::to_string(sock->domain) + ")");
    }

    void resolve_io(size_t i) {
        WaitNode& n = nodes_[i];
        const int fd = n.call.fds.empty() ? -1 : n.call.fds[0];
        const FdFacts* f = facts_.process(n.pid).fd(fd);
        if (!f) return live(i, "waits on fd " + std::to_string(fd) + ", which is no longer open");
        // A blocked call holds the file it looked up when it began; the number may mean
        // another file by now. Where the kernel function it sleeps in belongs to another
        // kind of file, it does.
        if (sleeps_in_other_kind(n.wchan, f->kind))
            return live(i, "waits on fd " + std::to_string(fd) + " in " + n.wchan + ", which is no " + f->target +
                           " wait: the number means another file now");
        if (f->kind == FdFacts::Kind::socket) {
            // SO_RCVTIMEO / SO_SNDTIMEO: the timeout lives in the socket, not in the call.
            if (auto sock = facts_.process(n.pid).socket(fd)) {
                auto limit = n.call.writes ? sock->sndtimeo : sock->rcvtimeo;
                Timeout t = Timeout::relative_to_call(limit);
                if (limit.count() > 0 && in_time(t))
                    return live(i, "its socket has " + std::string(n.call.writes ? "SO_SNDTIMEO" : "SO_RCVTIMEO") +
                                       " of " + human_duration(limit) + ": " + timed_because(t));
            }
        }
        Side s = side_of(n.pid, *f, n.call.writes ? Direction::write : Direction::read, 0);
        const std::string verb = n.call.accepts ? "accepts on " : n.call.writes ? "writes " : "reads ";
        if (s.outside) return live(i, verb + f->target + ": " + s.why);
        if (s.timeout && in_time(*s.timeout)) return live(i, verb + f->target + ", " + s.who + " expiring" + before_limit());
        n.waits = verb + f->target;
        n.enders = s.who;
        n.resources = std::move(s.keys);
        wake_by_processes(i, s.pids);
    }

    void resolve_poll(size_t i) {
        WaitNode& n = nodes_[i];
        std::set<pid_t> pids;
        std::string files;
        for (int fd : n.call.fds) {
            const FdFacts* f = facts_.process(n.pid).fd(fd);
            if (!f) return live(i, "polls fd " + std::to_string(fd) + ", which is not open (poll reports it at once)");
            Side s = side_of(n.pid, *f, Direction::either, 0);
            if (s.outside) return live(i, "polls " + f->target + ": " + s.why);
            if (s.timeout && in_time(*s.timeout))
                return live(i, "polls " + f->target + ", " + s.who + " expiring" + before_limit());
            pids.insert(s.pids.begin(), s.pids.end());
            n.resources.insert(s.keys.begin(), s.keys.end());
            files += (files.empty() ? "" : ", ") + f->target;
        }
        n.waits = (n.call.epoll ? "waits in epoll on " : "polls ") + (files.empty() ? std::string("nothing") : files);
        n.enders = "whose other ends are held by " + pid_list(pids, n.pid);
        wake_by_processes(i, pids);
    }

    // A blocked flock or fcntl lock ends when the lock on its file is released: by the
    // process that took it (a POSIX lock: when it unlocks, closes the file or exits), or by
    // any holder of the open file it belongs to (flock, OFD locks: shared across fork).
    // /proc/locks names files by inode; its device is not compared, which can only add
    // holders, never hide one.
    void resolve_file_lock(size_t i) {
        WaitNode& n = nodes_[i];
        const int fd = n.call.fds.empty() ? -1 : n.call.fds[0];
        const FdFacts* f = facts_.process(n.pid).fd(fd);
        if (!f || !f->inode) return live(i, "waits for a lock on fd " + std::to_string(fd) + ", which hangar cannot identify");
        std::set<pid_t> holders;
        bool any = false, waiting = false;
        for (const auto& l : facts_.system().file_locks())
            waiting |= l.waiting && l.inode == f->inode && (l.pid == n.pid || l.pid == -1);
        // The number may mean another file by now (dup2 since the call began): the kernel's
        // list of blocked requests says which file this process waits for.
        if (!waiting)
            return live(i, "waits for a lock on fd " + std::to_string(fd) + ", but /proc/locks shows no request of "
                           "this process blocked on " + f->target + ": the number may mean another file now");
        for (const auto& l : facts_.system().file_locks()) {
            if (l.waiting || l.inode != f->inode) continue;
            any = true;
            if (l.pid > 0 && !parent_.count(l.pid))
                return live(i, "waits for a lock on " + f->target + " that pid " + std::to_string(l.pid) +
                                   ", outside the tree (or gone, its open file shared), holds");
            if (l.pid > 0) holders.insert(l.pid);
            if (l.pid <= 0 || l.kind != "POSIX")  // the lock belongs to an open file: its holders
                for (const auto& p : tree_)
                    for (const auto& other : facts_.process(p.pid).fds())
                        if (other.inode == f->inode && other.kind == FdFacts::Kind::path) holders.insert(p.pid);
        }
        if (!any) return live(i, "waits for a lock on " + f->target + " that no one holds now: it is being granted");
        // A flock or OFD lock belongs to an open file, which a process outside may hold too.
        n.resources.insert("file-ino:" + std::to_string(f->inode));
        n.waits = "waits for a lock (" + n.call.call + ") on " + f->target;
        n.enders = "which its holders " + pid_list(holders, n.pid) + " could release";
        wake_by_processes(i, holders);
    }

    void resolve_child(size_t i) {
        WaitNode& n = nodes_[i];
        std::set<pid_t> children;
        for (const auto& p : tree_) {
            if (p.ppid != n.pid) continue;
            // wait4's argument is a pid as the waiting process sees it.
            if (n.call.child > 0 && facts_.process(p.pid).own_tid(p.pid) != n.call.child) continue;
            children.insert(p.pid);
        }
        if (children.empty())
            return live(i, "waits for a child that is not in the tree (wait4 would fail: it will return)");
        n.waits = children.size() == 1 ? "waits for child pid " + std::to_string(*children.begin())
                                       : "waits for its children " + pid_list(children, n.pid);
        n.enders = "which ends when the child does";
        for (pid_t c : children)
            for (size_t j : others_in(c, i)) n.wakers.push_back(j);
        n.other_side.assign(children.begin(), children.end());
    }

    const std::vector<ProcessState>& tree_;
    FactsSource& facts_;
    const WaitGraph::Options& options_;
    std::vector<WaitNode>& nodes_;
    std::map<pid_t, std::vector<size_t>> by_pid_;
    std::map<pid_t, pid_t> parent_;
    std::vector<size_t> maybe_gil_;
    bool any_live_ = false;
    bool indexed_ = false;
    std::optional<bool> talks_outside_;
    std::map<uint64_t, std::vector<std::pair<pid_t, int>>> pipes_;
    std::map<uint64_t, std::set<pid_t>> sockets_;
    std::map<uint64_t, std::set<pid_t>> eventfds_;
};

// How good a thread is as the root of a hang: a lock whose owner fork left behind, then
// I/O, then other lock waits, then polls, then child waits; stuck threads before live ones.
int rank(const WaitNode& n) {
    int r = 7;
    if (n.owner_outside) r = 0;
    else if (n.gil) r = 6;
    else if (n.call.kind == Kind::fd_io) r = 1;
    else if (n.call.kind == Kind::futex || n.call.kind == Kind::file_lock) r = 2;
    else if (n.call.kind == Kind::fd_poll) r = 3;
    else if (n.call.kind == Kind::child) r = 4;
    else if (n.call.kind == Kind::sleep) r = 5;
    return r + (n.live ? 10 : 0) + (n.call.kind == Kind::gone ? 100 : 0);
}

}  // namespace

WaitGraph WaitGraph::build(const std::vector<ProcessState>& tree, FactsSource& facts, const Options& options) {
    WaitGraph g;
    g.now_ = options.now;
    for (const auto& p : tree) g.processes_.push_back(p.pid);
    Builder b(tree, facts, options, g.nodes_);
    auto finish = [&] {
        b.propagate();
        g.any_live_ = b.any_live();
        // Nothing can act before the limit. Deadlocked only if nothing can act ever: a
        // thread that can act after the limit (a late deadline, timer, alarm, socket
        // timeout) could end any wait then, if only by a signal or a kill, like a watchdog
        // that ends a stuck child after ten minutes. Slow is not stuck: that run is
        // proven to outlast its limit, a timeout, not a deadlock.
        if (!g.any_live_ && options.window) {
            Options ever = options;
            ever.window = nullptr;
            ever.stop_at_first_live = true;
            // The first pass searched for every file a stuck wait depends on and found none
            // held outside; this pass has fewer stuck waits: searching again finds nothing.
            ever.search_outside = false;
            const WaitGraph later = build(tree, facts, ever);
            if (const WaitNode* n = later.first_live()) g.late_ = later.sentence(*n);
        }
        return g;
    };
    b.decode_calls();
    if (b.stop()) return finish();
    b.judge_processes();
    if (b.stop()) return finish();
    b.resolve();
    if (b.stop()) return finish();
    b.judge_alarms();
    if (b.stop()) return finish();
    if (!b.any_live() && options.search_outside) b.judge_outside_holders();
    return finish();
}

const WaitNode* WaitGraph::first_live() const {
    for (const auto& n : nodes_)
        if (n.live_by_itself) return &n;
    return nullptr;
}

std::string WaitGraph::why_live() const {
    if (nodes_.empty()) return "no process in the tree";
    if (const WaitNode* n = first_live()) return sentence(*n);
    if (!late_.empty())
        return "proven to outlast the run's limit, slow but not stuck: no thread can act before the limit, but "
               "one can after it: " + late_;
    return "no thread is live";
}

bool WaitGraph::structural() const {
    for (const auto& n : nodes_)
        if (!n.live && n.owner_outside) return true;
    return false;
}

std::vector<const WaitNode*> WaitGraph::root_path() const {
    std::vector<const WaitNode*> path;
    if (nodes_.empty()) return path;
    auto best_in = [&](pid_t pid, const WaitNode* except) -> const WaitNode* {
        const WaitNode* best = nullptr;
        for (const auto& n : nodes_)
            if (n.pid == pid && &n != except && (!best || rank(n) < rank(*best))) best = &n;
        return best;
    };
    // The command's main thread: the run ends when it does.
    const pid_t top = processes_.front();
    const WaitNode* at = nullptr;
    for (const auto& n : nodes_)
        if (n.pid == top && n.tid == top && n.call.kind != Kind::gone) at = &n;
    if (!at) at = best_in(top, nullptr);
    // A command that is itself live (it polls, it sleeps: a timeout) names no hang: start
    // from the tree's most telling stuck wait instead.
    if (at && at->live_by_itself)
        for (const auto& n : nodes_)
            if (!n.live && n.call.kind != Kind::gone && (at->live_by_itself || rank(n) < rank(*at))) at = &n;
    std::set<const WaitNode*> seen;
    while (at && seen.insert(at).second) {
        path.push_back(at);
        const WaitNode* next = nullptr;
        if (at->owner_outside || at->live_by_itself) break;
        if (at->owner && at->wakers.size() == 1) {
            next = &nodes_[at->wakers[0]];  // the mutex's owner
        } else if (at->gil) {
            next = nullptr;  // the GIL's holder: a thread of this process that is not waiting for it
            for (const auto& n : nodes_)
                if (n.pid == at->pid && !n.gil && n.call.kind != Kind::gone && (!next || rank(n) < rank(*next)))
                    next = &n;
        } else if (at->call.kind == Kind::futex) {
            break;  // a lock whose holder cannot be shown: the others wait on this one
        } else if (!at->other_side.empty()) {
            // Another process at the other end first; this one's own other threads if none.
            pid_t into = 0;
            for (pid_t p : at->other_side)
                if (p != at->pid && !into) {
                    const WaitNode* b = best_in(p, nullptr);
                    if (b && !seen.count(b)) into = p;
                }
            if (!into)
                for (pid_t p : at->other_side)
                    if (p != at->pid && !into) into = p;
            next = into ? best_in(into, nullptr) : best_in(at->pid, at);
            // A thread waiting for the GIL waits on this one's process, not the reverse.
            if (next && next->gil && next->pid == at->pid) next = nullptr;
        }
        at = next;
    }
    return path;
}

const WaitNode* WaitGraph::root() const {
    auto path = root_path();
    return path.empty() ? nullptr : path.back();
}

std::string WaitGraph::sentence(const WaitNode& n) const {
    std::string s = "pid " + std::to_string(n.pid) + " thread " + std::to_string(n.tid) + " [" + n.comm + "] ";
    if (n.live_by_itself) return s + describe(n.call, now_) + ": " + n.because;
    if (n.call.kind == Kind::gone) return s + "has exited";
    std::string what = n.waits.empty() ? describe(n.call, now_) : n.waits;
    if (!n.enders.empty()) what += (n.enders.rfind("a pthread", 0) == 0 ? " (" + n.enders + ")" : ", " + n.enders);
    if (n.live) {
        const WaitNode& w = nodes_[n.live_through];
        what += "; live through pid " + std::to_string(w.pid) + " thread " + std::to_string(w.tid);
    }
    return s + what;
}

std::string WaitGraph::render() const {
    std::string out;
    for (const auto& n : nodes_) out += "  " + sentence(n) + "\n";
    if (deadlocked()) out += "No thread is live: nothing in the tree can ever end another's wait.\n";
    auto path = root_path();
    if (!path.empty()) {
        out += "Root of the wait: ";
        for (size_t i = 0; i < path.size(); ++i) out += (i ? "; then " : "") + sentence(*path[i]);
        out += "\n";
    }
    return out;
}

}  // namespace hangar
