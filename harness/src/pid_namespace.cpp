#include "hangar/pid_namespace.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "child_exec.hpp"
#include "hangar/interrupt.hpp"

namespace hangar {
namespace {

using detail::ExecPlan;

// Messages on the control socket, one byte of kind first.
constexpr char kStart = 'S';     // harness -> reaper: plan size; fds stdin, stdout, stderr, plan
constexpr char kKill = 'K';      // harness -> reaper: end the run
constexpr char kEnded = 'X';     // reaper -> harness: wait status; the namespace is empty
constexpr char kStarted = 'G';   // reaper -> harness: the command has exec'd (the reaper left its vfork)
constexpr char kOwnProc = 'R';   // reaper -> harness at birth: ready, /proc is the namespace's
constexpr char kHostProc = 'P';  // reaper -> harness at birth: ready, /proc is the host's
// Second byte at birth, when asked to isolate: the read-only view is in place, or why not.
constexpr char kIsolated = 'I';
constexpr char kNotIsolated = 'N';

// The plan memfd: a header, then argv and envp as offsets (0 ends each list), then strings.
// The reaper maps it privately and turns the offsets into pointers in place.
struct PlanHeader {
    uint64_t path;
    uint64_t argc;
    uint64_t envc;
};
static_assert(sizeof(uint64_t) == sizeof(char*), "plan offsets are rewritten as pointers");

// A kStart message's bytes and room for its four fds, framed as sendmsg and recvmsg want
// them (the header points into the object itself, hence no copies).
struct StartMessage {
    char bytes[1 + sizeof(uint64_t)] = {};
    alignas(cmsghdr) char control[CMSG_SPACE(4 * sizeof(int))] = {};
    iovec iov{bytes, sizeof bytes};
    msghdr header{};
    StartMessage() {
        header.msg_iov = &iov;
        header.msg_iovlen = 1;
        header.msg_control = control;
        header.msg_controllen = sizeof control;
    }
    StartMessage(const StartMessage&) = delete;
    StartMessage& operator=(const StartMessage&) = delete;
};

pid_t raw_fork(unsigned long flags) {
    return static_cast<pid_t>(syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
}

int exec_entry(void* plan) { detail::exec_plan(*static_cast<const ExecPlan*>(plan)); }

// --- The reaper: a raw fork of the harness, so system calls only (see child_exec.hpp). ---

void send_ended(int control, int status) {
    char msg[1 + sizeof status];
    msg[0] = kEnded;
    std::memcpy(msg + 1, &status, sizeof status);
    while (send(control, msg, sizeof msg, MSG_NOSIGNAL) < 0 && errno == EINTR) {
    }
}

// Kills everything in the namespace but us and reaps it all. Every process of the namespace
// is our descendant and an orphan is reparented to us before its parent can be reaped, so
// once waitpid says we have no child left, nothing of the run is left.
void empty_namespace(pid_t command, int& command_status) {
    kill(-1, SIGKILL);
    for (;;) {
        int st = 0;
        pid_t r = waitpid(-1, &st, __WALL);
        if (r < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (r == command) command_status = st;
    }
}

// Appends the decimal digits of `n` at `out`; returns the end.
char* put_decimal(char* out, int n) {
    char digits[12];
    int count = 0;
    do digits[count++] = static_cast<char>('0' + n % 10), n /= 10;
    while (n > 0 && count < 11);
    while (count > 0) *out++ = digits[--count];
    return out;
}

// Starts the command of a kStart message and closes the fds that came with it. A command
// that cannot start says why on its stderr (strerror is not safe here: the errno).
pid_t start_command(uint64_t size, const int* fds, bool isolate) {
    pid_t pid = -1;
    int why = EINVAL;  // a plan that does not hold together
    void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fds[3], 0);
    if (base == MAP_FAILED) why = errno;
    if (base != MAP_FAILED && size >= sizeof(PlanHeader)) {
        char* b = static_cast<char*>(base);
        PlanHeader h;
        std::memcpy(&h, b, sizeof h);
        auto* slots = reinterpret_cast<uint64_t*>(b + sizeof h);
        const uint64_t n_slots = h.argc + 1 + h.envc + 1;
        if (h.argc < size && h.envc < size && sizeof h + n_slots * sizeof(uint64_t) <= size && h.path < size) {
            for (uint64_t i = 0; i < n_slots; ++i) {
                uint64_t off = slots[i] < size ? slots[i] : 0;
                char* p = off ? b + off : nullptr;
                std::memcpy(&slots[i], &p, sizeof p);
            }
            auto** pointers = reinterpret_cast<char**>(slots);
            ExecPlan plan{b + h.path, pointers, pointers + h.argc + 1, fds[0], fds[1], fds[2], isolate};
            pid = detail::vfork_clone(exec_entry, &plan);
            if (pid < 0) why = errno;
        }
    }
    if (pid < 0) {
        char line[96] = "hangar: the run's reaper could not start the command (errno ";
        char* end = put_decimal(line + std::strlen(line), why);
        *end++ = ')';
        *end++ = '\n';
        detail::write_all(fds[2], line, static_cast<size_t>(end - line));
    }
    if (base != MAP_FAILED) munmap(base, size);
    for (int i = 0; i < 4; ++i) close(fds[i]);
    return pid;
}

// --isolate: every mount of this namespace read-only (mount_setattr, Linux 5.12, recursive in
// one call), with a fresh tmpfs on /tmp and /dev/shm, which multiprocessing needs.
bool make_read_only_view() {
    struct {
        uint64_t attr_set, attr_clr, propagation, userns_fd;
    } attr{0x1 /* MOUNT_ATTR_RDONLY */, 0, 0, 0};
    constexpr int kAtRecursive = 0x8000;
    if (syscall(442 /* SYS_mount_setattr */, AT_FDCWD, "/", kAtRecursive, &attr, sizeof attr) != 0) return false;
    return mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") == 0 &&
           mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") == 0;
}

[[noreturn]] void run_reaper(int control, int lifeline_r, bool isolate) {
    // The harness's handlers (SIGINT, SIGTERM) would make PID 1 signalable from inside the
    // namespace (a scenario's `kill 0` reaches our process group) and would run harness code
    // here. With default handling, PID 1 ignores every signal its namespace sends it.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);
    // Our copy of the lifeline's write end must go before the check can see the harness's
    // end closed.
    int keep[] = {control, lifeline_r};
    std::sort(std::begin(keep), std::end(keep));
    detail::close_all_except(keep, 2);
    // PDEATHSIG only covers a parent dying from now on; the lifeline covers before.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    pollfd lifeline{lifeline_r, POLLIN, 0};
    if (poll(&lifeline, 1, 0) != 0) _exit(1);
    setsid();  // a terminal's Ctrl-C reaches the harness, which then ends the runs itself
    // Our own 0-2 on /dev/null, so that the fds of a run always arrive above them.
    for (int fd = open("/dev/null", O_RDWR); fd >= 0 && fd < 2; fd = dup(fd)) {
    }

    // A command's getpid() counts in this namespace, so /proc must too: tools that read
    // /proc/<getpid()> (LeakSanitizer's tracer is one) would otherwise read another
    // process, or none. The mount stays in this namespace's private mount table.
    bool own_proc = mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
                    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) == 0;

    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, nullptr);
    int sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    char hello[2] = {own_proc ? kOwnProc : kHostProc, kNotIsolated};
    if (isolate && own_proc && make_read_only_view()) hello[1] = kIsolated;
    if (sigfd < 0 || send(control, hello, isolate ? 2 : 1, MSG_NOSIGNAL) != (isolate ? 2 : 1)) _exit(1);

    pid_t command = 0;
    int status = 0;
    for (;;) {
        pollfd fds[2] = {{control, POLLIN, 0}, {sigfd, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) continue;
        if (fds[1].revents) {
            signalfd_siginfo info;
            while (read(sigfd, &info, sizeof info) > 0) {
            }
            bool command_ended = false;
            for (int st; ;) {  // orphans that end between runs are reaped here too
                pid_t r = waitpid(-1, &st, WNOHANG | __WALL);
                if (r <= 0) break;
                if (r == command) status = st, command_ended = true;
            }
            if (command_ended) {
                empty_namespace(command, status);  // whatever the command left behind dies
                command = 0;
                send_ended(control, status);
            }
        }
        if (!fds[0].revents) continue;
        StartMessage in;  // also big enough for a kKill
        const char* msg = in.bytes;
        ssize_t n = recvmsg(control, &in.header, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) _exit(0);  // the harness closed its end: this namespace is done
        cmsghdr* c = CMSG_FIRSTHDR(&in.header);
        int fds_in[4] = {-1, -1, -1, -1};
        int n_fds = 0;
        if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            n_fds = static_cast<int>((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            std::memcpy(fds_in, CMSG_DATA(c), std::min(n_fds, 4) * sizeof(int));
        }
        if (msg[0] == kStart && command == 0) {
            uint64_t size = 0;
            if (n == sizeof in.bytes && n_fds == 4) {
                std::memcpy(&size, msg + 1, sizeof size);
                command = start_command(size, fds_in, isolate);
            } else {
                for (int i = 0; i < std::min(n_fds, 4); ++i) close(fds_in[i]);
                command = -1;
            }
            if (command < 0) {  // every start gets its one answer, as a shell's "cannot execute"
                command = 0;
                send_ended(control, 127 << 8);
            } else {
                while (send(control, &kStarted, 1, MSG_NOSIGNAL) < 0 && errno == EINTR) {
                }
            }
        } else {
            for (int i = 0; i < std::min(n_fds, 4); ++i) close(fds_in[i]);
            if (msg[0] == kKill && command > 0) {
                empty_namespace(command, status);
                command = 0;
                send_ended(control, status);
            }
        }
    }
}

void put_string(std::string& plan, uint64_t& slot, const std::string& s) {
    slot = plan.size();
    plan.append(s);
    plan.push_back('\0');
}

}  // namespace

Result<PidNamespace> PidNamespace::create(bool isolate) {
    PidNamespace ns;
    int sv[2] = {-1, -1}, lifeline[2] = {-1, -1};
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return error(std::string("cannot create a socket pair: ") + std::strerror(errno));
    if (pipe2(lifeline, O_CLOEXEC) != 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        return error(std::string("cannot create a pipe: ") + std::strerror(e));
    }
    ns.control_fd_ = sv[0];
    ns.lifeline_fd_ = lifeline[1];
    ns.plan_fd_ = static_cast<int>(syscall(SYS_memfd_create, "hangar-run-plan", MFD_CLOEXEC));

    bool user_ns = false;
    pid_t init = ns.plan_fd_ < 0 ? -1 : raw_fork(CLONE_NEWPID | CLONE_NEWNS);
    if (init < 0 && ns.plan_fd_ >= 0 && (errno == EPERM || errno == EINVAL)) {
        user_ns = true;  // unprivileged: a user namespace grants the other two
        init = raw_fork(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS);
    }
    if (init == 0) run_reaper(sv[1], lifeline[0], isolate);
    int fork_errno = errno;
    close(sv[1]);
    close(lifeline[0]);
    if (init < 0)
        return error(std::string("cannot create a PID namespace for the runs: ") + std::strerror(fork_errno) +
                     " (hangar needs root or unprivileged user namespaces, "
                     "sysctl kernel.unprivileged_userns_clone=1)");
    ns.init_ = init;
    char hello[2] = {};
    ssize_t n;
    do n = recv(ns.control_fd_, hello, sizeof hello, 0);
    while (n < 0 && errno == EINTR);
    if (n < 1) return error("the PID namespace's reaper died as it started", Error::Kind::internal);
    ns.shares_host_proc_ = hello[0] == kHostProc;
    if (isolate && (n != 2 || hello[1] != kIsolated))
        return error("--isolate: could not make the run's file system view read-only (needs Linux 5.12 "
                     "mount_setattr and a /proc of the run's own)",
                     Error::Kind::internal);
    // Unmapped, a run would see itself as nobody (65534); mapped, as the user who ran hangar,
    // as it does without a user namespace. Done before any command starts in it.
    if (user_ns) {
        const std::string proc = "/proc/" + std::to_string(init) + "/";
        const std::string uid = std::to_string(getuid()), gid = std::to_string(getgid());
        for (auto [file, text] : {std::pair{"setgroups", std::string("deny")},
                                  std::pair{"uid_map", uid + " " + uid + " 1"},
                                  std::pair{"gid_map", gid + " " + gid + " 1"}}) {
            int fd = open((proc + file).c_str(), O_WRONLY | O_CLOEXEC);
            bool written = fd >= 0 && write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
            int e = errno;
            if (fd >= 0) close(fd);
            if (!written)
                return error("cannot map the user into the runs' user namespace (" + proc + file +
                             "): " + std::strerror(e));
        }
    }
    return ns;
}

PidNamespace::PidNamespace(PidNamespace&& o) noexcept
    : init_(std::exchange(o.init_, -1)),
      control_fd_(std::exchange(o.control_fd_, -1)),
      lifeline_fd_(std::exchange(o.lifeline_fd_, -1)),
      plan_fd_(std::exchange(o.plan_fd_, -1)),
      shares_host_proc_(o.shares_host_proc_),
      running_(std::exchange(o.running_, false)) {}

PidNamespace& PidNamespace::operator=(PidNamespace&& o) noexcept {
    if (this != &o) {
        shut();
        init_ = std::exchange(o.init_, -1);
        control_fd_ = std::exchange(o.control_fd_, -1);
        lifeline_fd_ = std::exchange(o.lifeline_fd_, -1);
        plan_fd_ = std::exchange(o.plan_fd_, -1);
        shares_host_proc_ = o.shares_host_proc_;
        running_ = std::exchange(o.running_, false);
    }
    return *this;
}

PidNamespace::~PidNamespace() { shut(); }

void PidNamespace::shut() {
    if (init_ > 0) {
        // The kernel kills every process of a namespace whose init dies, and the init is
        // reaped only once they are all gone: a process stuck in the kernel (D state) can
        // delay that. hangar waits a bounded time; an init not reaped by then stays a zombie
        // until hangar exits, while everything in its namespace is already killed.
        int pidfd = static_cast<int>(syscall(SYS_pidfd_open, init_, 0));
        ::kill(init_, SIGKILL);
        pollfd gone{pidfd, POLLIN, 0};
        if (pidfd < 0 || poll(&gone, 1, kReapLimitMs) > 0)
            while (waitpid(init_, nullptr, pidfd < 0 ? 0 : WNOHANG) < 0 && errno == EINTR) {
            }
        if (pidfd >= 0) close(pidfd);
    }
    for (int fd : {control_fd_, lifeline_fd_, plan_fd_})
        if (fd >= 0) close(fd);
    init_ = control_fd_ = lifeline_fd_ = plan_fd_ = -1;
    running_ = false;
}

Status PidNamespace::start(const std::string& path, const std::vector<std::string>& argv,
                           const std::vector<std::string>& envp, int stdin_fd, int stdout_fd, int stderr_fd) {
    if (!usable()) return error("the PID namespace for the runs is gone");
    if (running_) return error("a run is still going on in this PID namespace");
    PlanHeader h{0, argv.size(), envp.size()};
    std::vector<uint64_t> slots(argv.size() + 1 + envp.size() + 1, 0);
    std::string plan(sizeof h + slots.size() * sizeof(uint64_t), '\0');
    put_string(plan, h.path, path);
    for (size_t i = 0; i < argv.size(); ++i) put_string(plan, slots[i], argv[i]);
    for (size_t i = 0; i < envp.size(); ++i) put_string(plan, slots[argv.size() + 1 + i], envp[i]);
    std::memcpy(plan.data(), &h, sizeof h);
    std::memcpy(plan.data() + sizeof h, slots.data(), slots.size() * sizeof(uint64_t));
    for (size_t done = 0; done < plan.size();) {
        ssize_t n = pwrite(plan_fd_, plan.data() + done, plan.size() - done, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return error(std::string("cannot write the run's plan: ") + std::strerror(errno));
        done += static_cast<size_t>(n);
    }

    StartMessage out;
    out.bytes[0] = kStart;
    uint64_t size = plan.size();
    std::memcpy(out.bytes + 1, &size, sizeof size);
    int fds[4] = {stdin_fd, stdout_fd, stderr_fd, plan_fd_};
    cmsghdr* c = CMSG_FIRSTHDR(&out.header);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof fds);
    std::memcpy(CMSG_DATA(c), fds, sizeof fds);
    ssize_t n;
    do n = sendmsg(control_fd_, &out.header, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(sizeof out.bytes)) {
        shut();
        return error("the PID namespace's reaper is gone", Error::Kind::internal);
    }
    running_ = true;
    // Until the command has exec'd, the reaper is suspended in its vfork: a run is only
    // watched (and may be frozen for evidence) from then on. A start that fails answers
    // kEnded instead, which stays for finish() to read.
    auto answer = await_answer(kStartLimitMs);
    if (!answer) return answer.error();
    char kind = 0;
    if (recv(control_fd_, &kind, 1, MSG_PEEK) == 1 && kind == kStarted) recv(control_fd_, &kind, 1, 0);
    return {};
}

Status PidNamespace::await_answer(int timeout_ms) {
    const Interrupt* interrupt = Interrupt::installed();
    pollfd fds[2] = {{control_fd_, POLLIN, 0}, {interrupt ? interrupt->fd() : -1, POLLIN, 0}};
    int ready;
    do ready = poll(fds, 2, timeout_ms);
    while (ready < 0 && errno == EINTR);
    if (ready > 0 && fds[0].revents) return {};
    const bool interrupted = ready > 0;
    running_ = false;
    shut();  // the kernel ends what the reaper could not
    if (interrupted) return error("interrupted while the run's reaper was busy", Error::Kind::internal);
    return error("the run's reaper did not answer within " + std::to_string(timeout_ms / 1000) +
                     " s (a process that ignores SIGKILL, in uninterruptible sleep?)",
                 Error::Kind::internal);
}

Result<int> PidNamespace::read_ending(int timeout_ms) {
    if (timeout_ms >= 0)
        if (auto answered = await_answer(timeout_ms); !answered) return answered.error();
    char msg[1 + sizeof(int)];
    ssize_t n;
    do n = recv(control_fd_, msg, sizeof msg, 0);
    while (n < 0 && errno == EINTR);
    running_ = false;
    if (n != static_cast<ssize_t>(sizeof msg) || msg[0] != kEnded) {
        shut();  // whatever is left dies with the reaper
        return error("the run's reaper died without reporting", Error::Kind::internal);
    }
    int status;
    std::memcpy(&status, msg + 1, sizeof status);
    return status;
}

Result<int> PidNamespace::finish() {
    if (!running_) return error("no run is going on");
    return read_ending(-1);  // ended_fd() was readable: the answer is there
}

Result<int> PidNamespace::kill_run() {
    if (!running_) return error("no run is going on");
    char k = kKill;
    // The run may have ended meanwhile: then the reaper ignores this and its answer is
    // already on its way.
    while (send(control_fd_, &k, 1, MSG_NOSIGNAL) < 0 && errno == EINTR) {
    }
    return read_ending(kKillLimitMs);
}

}  // namespace hangar
