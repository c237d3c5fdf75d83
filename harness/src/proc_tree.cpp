#include "hangar/proc_tree.hpp"

#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "hangar/text_file.hpp"

namespace hangar {
namespace {

// System call numbers of the waits that matter. The kernel reports them per architecture.
#if defined(__x86_64__)
enum : long {
    SYS_read_ = 0, SYS_write_ = 1, SYS_poll_ = 7, SYS_select_ = 23, SYS_pause_ = 34, SYS_nanosleep_ = 35,
    SYS_wait4_ = 61, SYS_rt_sigtimedwait_ = 128, SYS_rt_sigsuspend_ = 130, SYS_futex_ = 202,
    SYS_semtimedop_ = 220, SYS_clock_nanosleep_ = 230, SYS_epoll_wait_ = 232, SYS_waitid_ = 247,
    SYS_pselect6_ = 270, SYS_ppoll_ = 271, SYS_epoll_pwait_ = 281, SYS_epoll_pwait2_ = 441, SYS_futex_waitv_ = 449,
};
#elif defined(__aarch64__)
enum : long {
    SYS_read_ = 63, SYS_write_ = 64, SYS_poll_ = -100, SYS_select_ = -101, SYS_pause_ = -102,
    SYS_nanosleep_ = 101, SYS_wait4_ = 260, SYS_rt_sigtimedwait_ = 137, SYS_rt_sigsuspend_ = 133, SYS_futex_ = 98,
    SYS_semtimedop_ = 192, SYS_clock_nanosleep_ = 115, SYS_epoll_wait_ = -103, SYS_waitid_ = 95,
    SYS_pselect6_ = 72, SYS_ppoll_ = 73, SYS_epoll_pwait_ = 22, SYS_epoll_pwait2_ = 441, SYS_futex_waitv_ = 449,
};
#else
#error "hangar reads /proc/TID/syscall, whose numbers it knows for x86_64 and aarch64 only"
#endif

constexpr uint64_t kFutexPrivate = 128;
constexpr uint64_t kFutexCmdMask = 127;

std::string trim_newline(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
    return s;
}

// /proc/TID/stat: "tid (comm) S ppid ..."; comm may hold spaces and parentheses.
bool parse_stat(const std::string& stat, char& state, std::string& comm, pid_t& ppid, uint64_t& cpu) {
    auto open = stat.find('(');
    auto close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close + 2 >= stat.size()) return false;
    comm = stat.substr(open + 1, close - open - 1);
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    std::vector<std::string> f;
    while (rest >> field) f.push_back(field);
    if (f.size() < 13) return false;
    state = f[0][0];
    ppid = static_cast<pid_t>(std::stol(f[1]));
    cpu = std::stoull(f[11]) + std::stoull(f[12]);  // utime, stime: fields 14 and 15
    return true;
}

void collect(pid_t pid, std::vector<ProcessState>& out) {
    const std::filesystem::path proc = "/proc/" + std::to_string(pid);
    ProcessState p;
    p.pid = pid;
    std::string cmdline = read_text(proc / "cmdline");
    for (char& c : cmdline)
        if (c == '\0') c = ' ';
    p.cmdline = trim_newline(cmdline);
    while (!p.cmdline.empty() && p.cmdline.back() == ' ') p.cmdline.pop_back();
    std::error_code ec;
    p.exe = std::filesystem::read_symlink(proc / "exe", ec).string();
    std::vector<pid_t> children;
    for (auto it = std::filesystem::directory_iterator(proc / "task", ec); !ec && it != std::filesystem::end(it);
         it.increment(ec)) {
        ThreadState t;
        t.tid = static_cast<pid_t>(std::stol(it->path().filename().string()));
        pid_t ppid = 0;
        if (!parse_stat(read_text(it->path() / "stat"), t.state, t.comm, ppid, t.cpu_time)) continue;
        p.ppid = ppid;
        // schedstat counts nanoseconds on the CPU; stat's clock ticks are 10 ms coarse.
        std::istringstream sched(read_text(it->path() / "schedstat"));
        if (uint64_t ns = 0; sched >> ns) t.cpu_time = ns;
        t.wchan = trim_newline(read_text(it->path() / "wchan"));
        const std::string syscall_line = read_text(it->path() / "syscall");
        t.wait = classify_wait(t.state, syscall_line, &t.syscall, &t.args);
        if (t.syscall >= 0) {  // "NR a0 a1 a2 a3 a4 a5 sp pc"
            unsigned long long sp = 0, pc = 0;
            if (std::sscanf(syscall_line.c_str(), "%*d %*x %*x %*x %*x %*x %*x %llx %llx", &sp, &pc) == 2) {
                t.sp = sp;
                t.pc = pc;
            }
        }
        p.threads.push_back(t);
        std::istringstream kids(read_text(it->path() / "children"));
        for (pid_t kid; kids >> kid;) children.push_back(kid);
    }
    if (!p.threads.empty()) out.push_back(std::move(p));
    for (pid_t kid : children) collect(kid, out);
}

bool timed_ptr(uint64_t ptr) { return ptr != 0; }
bool timed_ms(uint64_t ms) { return static_cast<int>(ms) >= 0; }

}  // namespace

std::string_view to_string(Wait w) {
    switch (w) {
        case Wait::running: return "running";
        case Wait::private_futex_untimed: return "futex(private, untimed)";
        case Wait::shared_futex_untimed: return "futex(shared, untimed)";
        case Wait::timed: return "timed wait";
        case Wait::child_wait: return "waiting for a child";
        case Wait::io_untimed: return "I/O, untimed";
        case Wait::other_untimed: return "blocked, untimed";
        case Wait::uninterruptible: return "uninterruptible (D)";
        case Wait::stopped: return "stopped";
        case Wait::gone: return "gone";
    }
    return "?";
}

Wait classify_wait(char state, const std::string& line, long* number, std::array<uint64_t, 6>* args_out) {
    if (state == 'R') return Wait::running;
    if (state == 'D') return Wait::uninterruptible;
    if (state == 'T' || state == 't') return Wait::stopped;
    if (state == 'Z' || state == 'X') return Wait::gone;
    if (line.rfind("running", 0) == 0) return Wait::running;
    long nr = -1;
    std::array<uint64_t, 6> a{};
    int n = std::sscanf(line.c_str(), "%ld %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64, &nr,
                        &a[0], &a[1], &a[2], &a[3], &a[4], &a[5]);
    if (number) *number = n >= 1 ? nr : -1;
    if (args_out) *args_out = a;
    if (n < 1 || nr < 0) return Wait::other_untimed;  // sleeping outside a system call
    switch (nr) {
        case SYS_futex_: {
            uint64_t cmd = a[1] & kFutexCmdMask;
            bool waits = cmd == 0 /*WAIT*/ || cmd == 9 /*WAIT_BITSET*/ || cmd == 6 /*LOCK_PI*/ ||
                         cmd == 11 /*WAIT_REQUEUE_PI*/ || cmd == 13 /*LOCK_PI2*/;
            if (!waits) return Wait::other_untimed;
            if (timed_ptr(a[3])) return Wait::timed;
            return (a[1] & kFutexPrivate) ? Wait::private_futex_untimed : Wait::shared_futex_untimed;
        }
        case SYS_futex_waitv_: return timed_ptr(a[3]) ? Wait::timed : Wait::shared_futex_untimed;
        case SYS_nanosleep_:
        case SYS_clock_nanosleep_: return Wait::timed;
        case SYS_poll_: return timed_ms(a[2]) ? Wait::timed : Wait::io_untimed;
        case SYS_epoll_wait_:
        case SYS_epoll_pwait_: return timed_ms(a[3]) ? Wait::timed : Wait::io_untimed;
        case SYS_ppoll_: return timed_ptr(a[2]) ? Wait::timed : Wait::io_untimed;
        case SYS_select_:
        case SYS_pselect6_:
        case SYS_epoll_pwait2_: return timed_ptr(nr == SYS_epoll_pwait2_ ? a[3] : a[4]) ? Wait::timed : Wait::io_untimed;
        case SYS_rt_sigtimedwait_: return timed_ptr(a[2]) ? Wait::timed : Wait::other_untimed;
        case SYS_semtimedop_: return timed_ptr(a[3]) ? Wait::timed : Wait::other_untimed;
        case SYS_wait4_:
        case SYS_waitid_: return Wait::child_wait;
        case SYS_read_:
        case SYS_write_: return Wait::io_untimed;
        case SYS_pause_:
        case SYS_rt_sigsuspend_: return Wait::other_untimed;
        default: return Wait::other_untimed;
    }
}

std::string ThreadState::describe() const {
    char buf[200];
    if (syscall == SYS_futex_) {
        uint64_t cmd = args[1] & kFutexCmdMask;
        std::snprintf(buf, sizeof buf, "futex(0x%" PRIx64 ", op=0x%" PRIx64 " %s%s, %s)", args[0], args[1],
                      cmd == 9 ? "FUTEX_WAIT_BITSET" : cmd == 0 ? "FUTEX_WAIT" : "FUTEX_OP",
                      (args[1] & kFutexPrivate) ? "|PRIVATE" : "", args[3] ? "timed" : "untimed");
        return buf;
    }
    if (syscall >= 0) {
        std::snprintf(buf, sizeof buf, "syscall %ld(0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64 ")",
                      syscall, args[0], args[1], args[2], args[3]);
        return std::string(buf) + " [" + std::string(to_string(wait)) + "]";
    }
    return std::string(to_string(wait));
}

bool ProcessState::is_python() const {
    auto base = std::filesystem::path(exe).filename().string();
    return base.rfind("python", 0) == 0;
}

bool ProcessState::wedged() const {
    if (threads.empty()) return false;
    for (const auto& t : threads)
        if (t.wait != Wait::private_futex_untimed) return false;
    return true;
}

namespace {

std::string running_below(pid_t pid, int depth) {
    if (depth > 64) return "";  // a chain deeper than any real tree; the full look decides
    std::error_code ec;
    const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
    std::vector<pid_t> children;
    for (auto it = std::filesystem::directory_iterator(tasks, ec); !ec && it != std::filesystem::end(it);
         it.increment(ec)) {
        if (depth > 0) {  // the root itself is no part of the run
            char state = '?';
            std::string comm;
            pid_t ppid = 0;
            uint64_t cpu = 0;
            if (parse_stat(read_text(it->path() / "stat"), state, comm, ppid, cpu) && (state == 'R' || state == 'D'))
                return "pid " + std::to_string(pid) + " thread " + it->path().filename().string() + " [" + comm +
                       "] is " + (state == 'R' ? "running" : "in uninterruptible sleep (D)");
        }
        std::istringstream kids(read_text(it->path() / "children"));
        for (pid_t kid; kids >> kid;) children.push_back(kid);
    }
    for (pid_t kid : children)
        if (auto found = running_below(kid, depth + 1); !found.empty()) return found;
    return "";
}

}  // namespace

std::string first_running(pid_t root) { return running_below(root, 0); }

std::vector<ProcessState> snapshot_tree(pid_t root) {
    std::vector<ProcessState> out;
    std::error_code ec;
    const std::filesystem::path tasks = "/proc/" + std::to_string(root) + "/task";
    for (auto it = std::filesystem::directory_iterator(tasks, ec); !ec && it != std::filesystem::end(it);
         it.increment(ec)) {
        std::istringstream kids(read_text(it->path() / "children"));
        for (pid_t kid; kids >> kid;) collect(kid, out);
    }
    return out;
}

}  // namespace hangar
