#include "hangar/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

extern char** environ;

namespace hangar {
namespace {

// Everything the child side needs, prepared before the clone: after it, in a copy of a
// multi-threaded process, only async-signal-safe system calls are allowed (no malloc, no
// glibc fork handlers, whose locks another thread may hold: the very bug hangar studies).
struct ChildPlan {
    const char* path;
    char* const* argv;
    char* const* envp;
    int stdin_fd, stdout_fd, stderr_fd;
    int status_w;
    int lifeline_r;
};

pid_t raw_fork(unsigned long flags) {
    return static_cast<pid_t>(syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
}

void write_all(int fd, const void* data, size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        p += n;
        size -= static_cast<size_t>(n);
    }
}

void write_str(int fd, const char* s) { write_all(fd, s, strlen(s)); }

// Closes every descriptor but `keep` (sorted ascending), so that fds of other runs
// started concurrently by other harness threads never leak into this tree.
void close_all_except(const int* keep, int n) {
    unsigned int from = 0;
    for (int i = 0; i < n; ++i) {
        if (static_cast<unsigned int>(keep[i]) > from) close_range(from, keep[i] - 1, 0);
        from = keep[i] + 1;
    }
    close_range(from, ~0U, 0);
}

[[noreturn]] void exec_command(const ChildPlan& p) {
    dup2(p.stdin_fd, 0);
    dup2(p.stdout_fd, 1);
    dup2(p.stderr_fd, 2);
    close_range(3, ~0U, 0);
    // A core dump of a hung scenario killed for evidence would cost seconds and disk.
    struct rlimit no_core {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    // Signal state is inherited across exec; the command gets a clean one.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(p.path, p.argv, p.envp);
    write_str(2, "hangar: cannot execute ");
    write_str(2, p.path);
    write_str(2, "\n");
    _exit(127);
}

// PDEATHSIG only covers a parent dying from now on; the lifeline covers before.
void die_with_parent(const ChildPlan& p) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    pollfd lifeline{p.lifeline_r, POLLIN, 0};
    if (poll(&lifeline, 1, 0) != 0) _exit(1);
}

int exec_command_entry(void* plan) { exec_command(*static_cast<const ChildPlan*>(plan)); }

int direct_child_entry(void* plan) {
    die_with_parent(*static_cast<const ChildPlan*>(plan));
    exec_command(*static_cast<const ChildPlan*>(plan));
}

[[noreturn]] void run_reaper(const ChildPlan& p) {
    die_with_parent(p);
    setsid();  // a terminal's Ctrl-C reaches the harness, which then ends the tree itself
    int keep[] = {p.stdin_fd, p.stdout_fd, p.stderr_fd, p.status_w, p.lifeline_r};
    std::sort(std::begin(keep), std::end(keep));
    close_all_except(keep, 5);

    // The command's getpid() counts in the new PID namespace, so /proc must too: tools that
    // read /proc/<getpid()> (LeakSanitizer's tracer is one) would otherwise read another
    // process, or none. The mount stays in this run's mount namespace, private to it.
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
        write_str(p.stderr_fd,
                  "hangar: warning: could not mount /proc for the run's PID namespace; "
                  "/proc/<pid> inside the run names the wrong processes\n");

    // The command shares the reaper's memory until it execs (a vfork): copying the page
    // tables of a copy of the harness a second time costs more than the whole exec.
    alignas(16) static char stack[64 * 1024];
    pid_t command = clone(exec_command_entry, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD,
                          const_cast<ChildPlan*>(&p));
    int status = 127 << 8;
    if (command > 0) {
        for (;;) {
            int st = 0;
            pid_t r = waitpid(-1, &st, 0);
            if (r == command) {
                status = st;
                break;
            }
            if (r < 0 && errno != EINTR) break;
        }
    }
    write_all(p.status_w, &status, sizeof status);
    _exit(0);  // as PID 1 of the namespace, this kills whatever the command left behind
}

int open_cloexec(const char* path, int flags) { return open(path, flags | O_CLOEXEC, 0644); }

// Serialises launches so that the fd juggling of two runs never interleaves.
std::mutex launch_mutex;

}  // namespace

std::vector<std::string> current_environment() {
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
    return env;
}

Result<std::filesystem::path> find_program(const std::string& name) {
    if (name.empty()) return error("empty program name");
    if (name.find('/') != std::string::npos) {
        if (access(name.c_str(), X_OK) != 0)
            return error("cannot execute " + name + ": " + std::strerror(errno));
        return std::filesystem::absolute(name);
    }
    const char* path = getenv("PATH");
    std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    size_t start = 0;
    while (start <= dirs.size()) {
        size_t end = dirs.find(':', start);
        if (end == std::string::npos) end = dirs.size();
        std::filesystem::path candidate = std::filesystem::path(dirs.substr(start, end - start)) / name;
        if (!candidate.parent_path().empty() && access(candidate.c_str(), X_OK) == 0 &&
            std::filesystem::is_regular_file(candidate))
            return std::filesystem::absolute(candidate);
        start = end + 1;
    }
    return error("'" + name + "' not found on PATH");
}

Result<ProcessTree> ProcessTree::launch(const CommandSpec& spec) {
    if (spec.argv.empty()) return error("no command given");
    auto program = find_program(spec.argv[0]);
    if (!program) return program.error();
    std::string path = program->string();

    std::vector<char*> argv, envp;
    for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : spec.environment) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);

    std::lock_guard lock(launch_mutex);
    int in = open_cloexec("/dev/null", O_RDONLY);
    int out = open_cloexec(spec.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC);
    int err = open_cloexec(spec.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC);
    int status_pipe[2] = {-1, -1}, lifeline[2] = {-1, -1};
    bool pipes_ok = pipe2(status_pipe, O_CLOEXEC) == 0 && pipe2(lifeline, O_CLOEXEC) == 0;
    auto close_fds = [&] {
        for (int fd : {in, out, err, status_pipe[0], status_pipe[1], lifeline[0], lifeline[1]})
            if (fd >= 0) close(fd);
    };
    if (in < 0 || out < 0 || err < 0 || !pipes_ok) {
        std::string what = out < 0   ? "cannot create " + spec.stdout_path.string()
                           : err < 0 ? "cannot create " + spec.stderr_path.string()
                                     : std::string("cannot set up the run");
        what += std::string(": ") + std::strerror(errno);
        close_fds();
        return error(what);
    }

    ChildPlan plan{path.c_str(), argv.data(), envp.data(), in, out, err, status_pipe[1], lifeline[0]};
    if (!spec.contain) {
        // A vfork: the child only sets itself up and execs; its stack is this thread's.
        alignas(16) static thread_local char stack[64 * 1024];
        pid_t child = clone(direct_child_entry, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &plan);
        int fork_errno = errno;
        int pidfd = child > 0 ? static_cast<int>(syscall(SYS_pidfd_open, child, 0)) : -1;
        for (int fd : {in, out, err, status_pipe[0], status_pipe[1], lifeline[0]}) close(fd);
        if (child < 0) {
            close(lifeline[1]);
            return error(std::string("cannot start ") + path + ": " + std::strerror(fork_errno));
        }
        return ProcessTree(child, pidfd, lifeline[1], true);
    }
    pid_t reaper = raw_fork(CLONE_NEWPID | CLONE_NEWNS);
    if (reaper < 0 && (errno == EPERM || errno == EINVAL))
        reaper = raw_fork(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS);  // unprivileged: a user namespace grants it
    if (reaper == 0) run_reaper(plan);
    int clone_errno = errno;
    for (int fd : {in, out, err, status_pipe[1], lifeline[0]}) close(fd);
    if (reaper < 0) {
        close(status_pipe[0]);
        close(lifeline[1]);
        return error(std::string("cannot create a PID namespace for the run: ") + std::strerror(clone_errno) +
                     " (hangar needs root or unprivileged user namespaces, "
                     "sysctl kernel.unprivileged_userns_clone=1)");
    }
    return ProcessTree(reaper, status_pipe[0], lifeline[1], false);
}

ProcessTree::ProcessTree(ProcessTree&& other) noexcept
    : reaper_(std::exchange(other.reaper_, -1)),
      status_fd_(std::exchange(other.status_fd_, -1)),
      lifeline_fd_(std::exchange(other.lifeline_fd_, -1)),
      direct_(other.direct_) {}

ProcessTree& ProcessTree::operator=(ProcessTree&& other) noexcept {
    if (this != &other) {
        kill();
        release_fds();
        reaper_ = std::exchange(other.reaper_, -1);
        status_fd_ = std::exchange(other.status_fd_, -1);
        lifeline_fd_ = std::exchange(other.lifeline_fd_, -1);
        direct_ = other.direct_;
    }
    return *this;
}

ProcessTree::~ProcessTree() {
    kill();
    release_fds();
}

void ProcessTree::release_fds() {
    if (status_fd_ >= 0) close(status_fd_);
    if (lifeline_fd_ >= 0) close(lifeline_fd_);
    status_fd_ = lifeline_fd_ = -1;
}

Result<int> ProcessTree::collect() {
    if (direct_) {
        int status = 0;
        pid_t r;
        do r = waitpid(reaper_, &status, 0);
        while (r < 0 && errno == EINTR);
        reaper_ = -1;
        if (r < 0) return error("the run's process vanished");
        return status;
    }
    int status = 0;
    ssize_t n;
    do n = read(status_fd_, &status, sizeof status);
    while (n < 0 && errno == EINTR);
    kill();  // the reaper exits by itself after reporting; this only reaps it
    if (n != static_cast<ssize_t>(sizeof status)) return error("the run's reaper died without reporting");
    return status;
}

void ProcessTree::kill() {
    if (reaper_ <= 0) return;
    ::kill(reaper_, SIGKILL);
    while (waitpid(reaper_, nullptr, 0) < 0 && errno == EINTR) {
    }
    reaper_ = -1;
}

}  // namespace hangar
