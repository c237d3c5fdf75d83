#include "hangar/blocking_call.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cinttypes>
#include <cstdio>

namespace hangar {
namespace {

using std::chrono::nanoseconds;
using Kind = BlockingCall::Kind;

// The numbers come from <sys/syscall.h>, the machine's own ABI; calls that an ABI lacks
// (aarch64 has no poll, select, pause, epoll_wait) get a number no thread can show.
#ifdef SYS_poll
constexpr long kPoll = SYS_poll;
#else
constexpr long kPoll = -1000;
#endif
#ifdef SYS_select
constexpr long kSelect = SYS_select;
#else
constexpr long kSelect = -1001;
#endif
#ifdef SYS_pause
constexpr long kPause = SYS_pause;
#else
constexpr long kPause = -1002;
#endif
#ifdef SYS_epoll_wait
constexpr long kEpollWait = SYS_epoll_wait;
#else
constexpr long kEpollWait = -1003;
#endif
#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif

constexpr unsigned kFutexPrivate = 128;
constexpr unsigned kFutexClockRealtime = 256;
constexpr unsigned kFutexCmdMask = 127;
enum : unsigned { kWait = 0, kLockPi = 6, kWaitBitset = 9, kWaitRequeuePi = 11, kLockPi2 = 13 };
constexpr size_t kMaxPollFds = 4096;  // a bound on what one sample reads of a process

struct Reader {
    const MemoryReader& memory;

    std::optional<nanoseconds> timespec_at(uint64_t address) const {
        int64_t ts[2];
        if (!memory(address, ts, sizeof ts) || ts[0] < 0 || ts[1] < 0 || ts[1] >= 1000000000) return std::nullopt;
        if (ts[0] > int64_t{1} << 32) return nanoseconds::max() / 2;  // centuries: past any run
        return std::chrono::seconds(ts[0]) + nanoseconds(ts[1]);
    }
    std::optional<nanoseconds> timeval_at(uint64_t address) const {
        int64_t tv[2];
        if (!memory(address, tv, sizeof tv) || tv[0] < 0 || tv[1] < 0 || tv[1] >= 1000000) return std::nullopt;
        if (tv[0] > int64_t{1} << 32) return nanoseconds::max() / 2;
        return std::chrono::seconds(tv[0]) + std::chrono::microseconds(tv[1]);
    }
    // A relative timeout behind a pointer; a null pointer is none.
    Timeout relative(uint64_t address, bool timeval = false) const {
        if (!address) return {};
        auto v = timeval ? timeval_at(address) : timespec_at(address);
        if (!v) return Timeout::unreadable("its timeout at 0x" + hex(address));
        Timeout t = Timeout::relative_to_call(*v);
        t.read_at = address;
        return t;
    }
    Timeout absolute(uint64_t address, clockid_t clock) const {
        if (!address) return {};
        auto v = timespec_at(address);
        if (!v) return Timeout::unreadable("its deadline at 0x" + hex(address));
        Timeout t = Timeout::at(*v, clock);
        t.read_at = address;
        return t;
    }
    static std::string hex(uint64_t v) {
        char buf[24];
        std::snprintf(buf, sizeof buf, "%" PRIx64, v);
        return buf;
    }
};

// An int timeout in milliseconds, as poll and epoll_wait take it: negative is none.
Timeout milliseconds_arg(uint64_t arg) {
    int ms = static_cast<int>(arg);
    if (ms < 0) return {};
    return Timeout::relative_to_call(std::chrono::milliseconds(ms));
}

BlockingCall other(BlockingCall c, std::string about) {
    c.kind = Kind::other;
    c.about = std::move(about);
    return c;
}

BlockingCall decode_futex(BlockingCall c, const std::array<uint64_t, 6>& a, const Reader& r) {
    const unsigned op = static_cast<unsigned>(a[1]);
    c.kind = Kind::futex;
    c.address = a[0];
    c.futex_cmd = op & kFutexCmdMask;
    c.futex_value = static_cast<uint32_t>(a[2]);
    c.futex_private = (op & kFutexPrivate) != 0;
    const clockid_t flagged = (op & kFutexClockRealtime) ? CLOCK_REALTIME : CLOCK_MONOTONIC;
    switch (c.futex_cmd) {
        case kWait: c.timeout = r.relative(a[3]); break;  // FUTEX_WAIT: relative, unlike the others
        case kWaitBitset:
        case kWaitRequeuePi:
        case kLockPi2: c.timeout = r.absolute(a[3], flagged); break;
        case kLockPi: c.timeout = r.absolute(a[3], CLOCK_REALTIME); break;  // always CLOCK_REALTIME
        default: return other(c, "a futex operation that does not wait");
    }
    return c;
}

BlockingCall decode_pollfds(BlockingCall c, uint64_t array, uint64_t count, const Reader& r) {
    c.kind = Kind::fd_poll;
    if (count > kMaxPollFds) return other(c, "polls more descriptors than hangar reads");
    std::vector<int32_t> words(static_cast<size_t>(count) * 2);  // struct pollfd: int fd; short events, revents
    if (count && !r.memory(array, words.data(), words.size() * sizeof(int32_t)))
        return other(c, "its pollfd array could not be read");
    for (size_t i = 0; i < count; ++i)
        if (words[2 * i] >= 0) c.fds.push_back(words[2 * i]);  // negative: ignored by poll
    return c;
}

BlockingCall decode_select(BlockingCall c, const std::array<uint64_t, 6>& a, const Reader& r) {
    c.kind = Kind::fd_poll;
    const int n = static_cast<int>(a[0]);
    if (n < 0 || n > 65536) return other(c, "an fd_set size hangar does not read");
    const size_t words = (static_cast<size_t>(n) + 63) / 64;
    std::vector<uint64_t> bits(words), any(words, 0);
    for (uint64_t set : {a[1], a[2], a[3]}) {
        if (!set || !words) continue;
        if (!r.memory(set, bits.data(), words * sizeof(uint64_t))) return other(c, "its fd_sets could not be read");
        for (size_t i = 0; i < words; ++i) any[i] |= bits[i];
    }
    for (int fd = 0; fd < n; ++fd)
        if (any[static_cast<size_t>(fd) / 64] >> (fd % 64) & 1) c.fds.push_back(fd);
    return c;
}

}  // namespace

BlockingCall decode_call(const ThreadState& t, const MemoryReader& memory) {
    BlockingCall c;
    c.nr = t.syscall;
    switch (t.state) {
        case 'R': c.kind = Kind::running; return c;
        case 'D': c.kind = Kind::uninterruptible; return c;
        case 'T':
        case 't': c.kind = Kind::stopped; return c;
        case 'Z':
        case 'X': c.kind = Kind::gone; return c;
        default: break;
    }
    if (t.wait == Wait::running) {
        c.kind = Kind::running;
        return c;
    }
    if (t.syscall < 0) return other(c, "asleep outside a system call");
    const Reader r{memory};
    const auto& a = t.args;
    const long nr = t.syscall;
    auto io = [&](const char* name, bool writes, bool accepts = false) {
        c.call = name;
        c.kind = Kind::fd_io;
        c.fds = {static_cast<int>(a[0])};
        c.writes = writes;
        c.accepts = accepts;
        return c;
    };
    switch (nr) {
        case SYS_futex: c.call = "futex"; return decode_futex(c, a, r);
        case SYS_nanosleep:
            c.call = "nanosleep";
            c.kind = Kind::sleep;
            c.timeout = r.relative(a[0]);
            return c;
        case SYS_clock_nanosleep:
            c.call = "clock_nanosleep";
            c.kind = Kind::sleep;
            c.timeout = (a[1] & TIMER_ABSTIME) ? r.absolute(a[2], static_cast<clockid_t>(a[0])) : r.relative(a[2]);
            return c;
        case SYS_ppoll:
            c.call = "ppoll";
            c = decode_pollfds(c, a[0], a[1], r);
            if (c.kind == Kind::fd_poll) c.timeout = r.relative(a[2]);
            return c;
        case SYS_pselect6:
            c.call = "pselect6";
            c = decode_select(c, a, r);
            if (c.kind == Kind::fd_poll) c.timeout = r.relative(a[4]);
            return c;
        case SYS_epoll_pwait:
        case SYS_epoll_pwait2:
            c.call = nr == SYS_epoll_pwait ? "epoll_pwait" : "epoll_pwait2";
            c.kind = Kind::fd_poll;
            c.epoll = true;
            c.fds = {static_cast<int>(a[0])};
            c.timeout = nr == SYS_epoll_pwait ? milliseconds_arg(a[3]) : r.relative(a[3]);
            return c;
        case SYS_read: return io("read", false);
        case SYS_readv: return io("readv", false);
        case SYS_pread64: return io("pread64", false);
        case SYS_preadv: return io("preadv", false);
        case SYS_preadv2: return io("preadv2", false);
        case SYS_recvfrom: return io("recvfrom", false);
        case SYS_recvmsg: return io("recvmsg", false);
        case SYS_recvmmsg:
            io("recvmmsg", false);
            // Its timeout is checked only between datagrams; count it as one hangar cannot place.
            if (a[4]) c.timeout = Timeout::unreadable("recvmmsg's timeout");
            return c;
        case SYS_write: return io("write", true);
        case SYS_writev: return io("writev", true);
        case SYS_pwrite64: return io("pwrite64", true);
        case SYS_pwritev: return io("pwritev", true);
        case SYS_pwritev2: return io("pwritev2", true);
        case SYS_sendto: return io("sendto", true);
        case SYS_sendmsg: return io("sendmsg", true);
        case SYS_sendmmsg: return io("sendmmsg", true);
        case SYS_accept: return io("accept", false, true);
        case SYS_accept4: return io("accept4", false, true);
        case SYS_wait4:
            c.call = "wait4";
            c.kind = Kind::child;
            c.child = static_cast<int>(a[0]) > 0 ? static_cast<pid_t>(a[0]) : -1;  // 0, < -1: a group: any
            return c;
        case SYS_waitid:
            c.call = "waitid";
            c.kind = Kind::child;
            c.child = a[0] == P_PID ? static_cast<pid_t>(a[1]) : -1;  // P_ALL, P_PGID, P_PIDFD: any
            return c;
        case SYS_flock:
            if (a[1] & LOCK_NB) break;
            c.call = "flock";
            c.kind = Kind::file_lock;
            c.fds = {static_cast<int>(a[0])};
            return c;
        case SYS_fcntl:
            if (a[1] != F_SETLKW && a[1] != F_OFD_SETLKW) break;
            c.call = a[1] == F_SETLKW ? "fcntl F_SETLKW" : "fcntl F_OFD_SETLKW";
            c.kind = Kind::file_lock;
            c.fds = {static_cast<int>(a[0])};
            return c;
        case SYS_rt_sigsuspend: c.call = "rt_sigsuspend"; c.kind = Kind::signal; return c;
        case SYS_rt_sigtimedwait: c.call = "rt_sigtimedwait"; c.kind = Kind::signal; return c;
        case SYS_restart_syscall:
            c.call = "restart_syscall";
            return other(c, "a call restarted after a signal, whose deadline /proc does not show");
        default: break;
    }
    if (nr == kPoll) {
        c.call = "poll";
        c = decode_pollfds(c, a[0], a[1], r);
        if (c.kind == Kind::fd_poll) c.timeout = milliseconds_arg(a[2]);
        return c;
    }
    if (nr == kSelect) {
        c.call = "select";
        c = decode_select(c, a, r);
        if (c.kind == Kind::fd_poll) c.timeout = r.relative(a[4], /*timeval=*/true);
        return c;
    }
    if (nr == kEpollWait) {
        c.call = "epoll_wait";
        c.kind = Kind::fd_poll;
        c.epoll = true;
        c.fds = {static_cast<int>(a[0])};
        c.timeout = milliseconds_arg(a[3]);
        return c;
    }
    if (nr == kPause) {
        c.call = "pause";
        c.kind = Kind::signal;
        return c;
    }
    c.call = "syscall " + std::to_string(nr);
    // connect, non-waiting fcntl, System V IPC, POSIX message queues, io_uring, opening a
    // FIFO...: their other side may be outside the tree, or hidden from /proc.
    return other(c, "a system call hangar does not model");
}

std::string describe(const BlockingCall& c, SteadyClock::time_point now) {
    char buf[160];
    std::string timing = c.timeout.kind == Timeout::Kind::none ? "" : ", " + hangar::describe(c.timeout, now);
    switch (c.kind) {
        case Kind::running: return "running";
        case Kind::uninterruptible: return "in uninterruptible sleep (D)";
        case Kind::stopped: return "stopped";
        case Kind::gone: return "exited (zombie)";
        case Kind::futex: {
            const char* cmd = c.futex_cmd == kWait          ? "FUTEX_WAIT"
                              : c.futex_cmd == kWaitBitset  ? "FUTEX_WAIT_BITSET"
                              : c.futex_cmd == kLockPi      ? "FUTEX_LOCK_PI"
                              : c.futex_cmd == kLockPi2     ? "FUTEX_LOCK_PI2"
                              : c.futex_cmd == kWaitRequeuePi ? "FUTEX_WAIT_REQUEUE_PI"
                                                            : "FUTEX_OP";
            std::snprintf(buf, sizeof buf, "futex(0x%" PRIx64 ", %s%s, %u", c.address, cmd,
                          c.futex_private ? "|PRIVATE" : "", c.futex_value);
            return buf + timing + ")";
        }
        case Kind::fd_io: return c.call + "(fd " + std::to_string(c.fds.empty() ? -1 : c.fds[0]) + timing + ")";
        case Kind::fd_poll: {
            std::string s = c.call + "(" + (c.epoll ? "epoll fd" : "fds");
            for (int fd : c.fds) s += " " + std::to_string(fd);
            return s + timing + ")";
        }
        case Kind::child:
            return c.call + "(" + (c.child > 0 ? "child " + std::to_string(c.child) : std::string("any child")) + ")";
        case Kind::sleep: return c.call + "(" + hangar::describe(c.timeout, now) + ")";
        case Kind::signal: return c.call + "()";
        case Kind::file_lock: return c.call + "(fd " + std::to_string(c.fds.empty() ? -1 : c.fds[0]) + ")";
        case Kind::other: return (c.call.empty() ? std::string("blocked") : c.call) + " (" + c.about + ")";
    }
    return "?";
}

}  // namespace hangar
