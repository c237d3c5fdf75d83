#include "hangar/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

#include "child_exec.hpp"

extern char** environ;

namespace hangar {
namespace {

struct DirectPlan {
    detail::ExecPlan exec;
    int lifeline_r, lifeline_w;
};

int direct_child_entry(void* arg) {
    const auto& plan = *static_cast<const DirectPlan*>(arg);
    // Our copy of the write end would keep the lifeline open whatever the harness does.
    close(plan.lifeline_w);
    // PDEATHSIG only covers a parent dying from now on; the lifeline covers before.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    pollfd lifeline{plan.lifeline_r, POLLIN, 0};
    if (poll(&lifeline, 1, 0) != 0) _exit(1);
    detail::exec_plan(plan.exec);
}

int open_cloexec(const char* path, int flags) { return open(path, flags | O_CLOEXEC, 0644); }

// Serialises launches so that the fd juggling of two runs never interleaves.
std::mutex launch_mutex;

struct RunFds {
    int in = -1, out = -1, err = -1;
    RunFds() = default;
    RunFds(RunFds&& o) noexcept
        : in(std::exchange(o.in, -1)), out(std::exchange(o.out, -1)), err(std::exchange(o.err, -1)) {}
    RunFds& operator=(RunFds&&) = delete;
    ~RunFds() {
        for (int fd : {in, out, err})
            if (fd >= 0) close(fd);
    }
};

Result<RunFds> open_run_fds(const CommandSpec& spec) {
    RunFds fds;
    fds.in = open_cloexec("/dev/null", O_RDONLY);
    fds.out = spec.stdout_fd >= 0 ? fcntl(spec.stdout_fd, F_DUPFD_CLOEXEC, 3)
                                  : open_cloexec(spec.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC);
    fds.err = spec.stderr_fd >= 0 ? fcntl(spec.stderr_fd, F_DUPFD_CLOEXEC, 3)
                                  : open_cloexec(spec.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC);
    if (fds.in >= 0 && fds.out >= 0 && fds.err >= 0) return fds;
    std::string what = fds.out < 0   ? "cannot create " + spec.stdout_path.string()
                       : fds.err < 0 ? "cannot create " + spec.stderr_path.string()
                                     : std::string("cannot open /dev/null");
    return error(what + ": " + std::strerror(errno));
}

}  // namespace

std::vector<std::string> current_environment() {
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
    return env;
}

Result<std::filesystem::path> find_program(const std::string& name) {
    if (name.empty()) return error("empty program name");
    if (name.find('/') != std::string::npos) {
        std::error_code ec;
        if (std::filesystem::is_directory(name, ec)) return error("cannot execute " + name + ": it is a folder");
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
    const auto began = std::chrono::steady_clock::now();
    if (!spec.contain) {
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
        auto fds = open_run_fds(spec);
        if (!fds) return fds.error();
        int lifeline[2];
        if (pipe2(lifeline, O_CLOEXEC) != 0) return error(std::string("cannot create a pipe: ") + std::strerror(errno));
        DirectPlan plan{{path.c_str(), argv.data(), envp.data(), fds->in, fds->out, fds->err}, lifeline[0],
                        lifeline[1]};
        pid_t child = detail::vfork_clone(direct_child_entry, &plan);
        int fork_errno = errno;
        close(lifeline[0]);
        if (child < 0) {
            close(lifeline[1]);
            return error(std::string("cannot start ") + path + ": " + std::strerror(fork_errno));
        }
        ProcessTree tree;
        tree.started_ = began;
        tree.root_ = child;
        tree.lifeline_fd_ = lifeline[1];
        tree.ended_fd_ = static_cast<int>(syscall(SYS_pidfd_open, child, 0));
        if (tree.ended_fd_ < 0)  // without it the end could not be seen: the tree's destructor ends it
            return error(std::string("cannot watch ") + path + ": pidfd_open: " + std::strerror(errno) +
                         " (Linux 5.3 or later needed)");
        return tree;
    }
    auto ns = PidNamespace::create();
    if (!ns) return ns.error();
    auto own = std::make_unique<PidNamespace>(std::move(*ns));
    auto tree = launch(spec, *own);
    if (tree) tree->own_ns_ = std::move(own);
    return tree;
}

Result<ProcessTree> ProcessTree::launch(const CommandSpec& spec, PidNamespace& ns) {
    const auto began = std::chrono::steady_clock::now();
    if (spec.argv.empty()) return error("no command given");
    auto program = find_program(spec.argv[0]);
    if (!program) return program.error();
    std::lock_guard lock(launch_mutex);
    auto fds = open_run_fds(spec);
    if (!fds) return fds.error();
    if (ns.shares_host_proc())
        detail::write_str(fds->err, "hangar: warning: could not mount /proc for the run's PID namespace; "
                                    "/proc/<pid> inside the run names the wrong processes\n");
    if (auto started = ns.start(program->string(), spec.argv, spec.environment, fds->in, fds->out, fds->err);
        !started)
        return started.error();
    ProcessTree tree;
    tree.started_ = began;
    tree.root_ = ns.init_pid();
    tree.ended_fd_ = ns.ended_fd();
    tree.ns_ = &ns;
    return tree;
}

ProcessTree::ProcessTree(ProcessTree&& o) noexcept
    : root_(std::exchange(o.root_, -1)),
      ended_fd_(std::exchange(o.ended_fd_, -1)),
      ns_(std::exchange(o.ns_, nullptr)),
      own_ns_(std::move(o.own_ns_)),
      lifeline_fd_(std::exchange(o.lifeline_fd_, -1)),
      started_(o.started_) {}

ProcessTree& ProcessTree::operator=(ProcessTree&& o) noexcept {
    if (this != &o) {
        kill();
        root_ = std::exchange(o.root_, -1);
        ended_fd_ = std::exchange(o.ended_fd_, -1);
        ns_ = std::exchange(o.ns_, nullptr);
        own_ns_ = std::move(o.own_ns_);
        lifeline_fd_ = std::exchange(o.lifeline_fd_, -1);
        started_ = o.started_;
    }
    return *this;
}

ProcessTree::~ProcessTree() { kill(); }

void ProcessTree::release() {
    if (!ns_ && ended_fd_ >= 0) close(ended_fd_);  // a pidfd; the namespace's socket is its own
    if (lifeline_fd_ >= 0) close(lifeline_fd_);
    root_ = ended_fd_ = lifeline_fd_ = -1;
    ns_ = nullptr;
    own_ns_.reset();  // kills its reaper: nothing was left in it
}

Result<int> ProcessTree::collect() {
    if (!alive()) return error("the run was already collected");
    if (ns_) {
        auto status = ns_->finish();
        release();
        return status;
    }
    int status = 0;
    pid_t r;
    do r = waitpid(root_, &status, 0);
    while (r < 0 && errno == EINTR);
    release();
    if (r < 0) return error("the run's process vanished");
    return status;
}

void ProcessTree::kill() {
    if (!alive()) return;
    if (ns_) {
        if (ns_->running()) (void)ns_->kill_run();
    } else {
        ::kill(root_, SIGKILL);
        while (waitpid(root_, nullptr, 0) < 0 && errno == EINTR) {
        }
    }
    release();
}

}  // namespace hangar
