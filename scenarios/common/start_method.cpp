// Native start methods; see start_method.hpp for the contract each one keeps.
#include "start_method.hpp"

#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

extern char** environ;

namespace scenario {
namespace {

constexpr std::string_view kChildFlag = "--hangar-child";

[[noreturn]] void bad_args(const char* prog, const char* problem) {
    // One line, so the harness's evidence shows the cause rather than a usage screen.
    std::fprintf(stderr, "%s: %s (usage: %s [ARGS...] --method fork|spawn|forkserver)\n", prog,
                 problem, prog);
    std::exit(2);
}

void report(const char* what, int err) {
    std::fprintf(stderr, "hangar scenario: %s: %s\n", what, std::strerror(err));
}

// Untimed on purpose: a hung child must leave its parent blocked in wait4, which is what
// the harness's stall detection looks for.
int wait_status(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            report("waitpid", errno);
            return W_EXITCODE(1, 0);
        }
    }
    return status;
}

// The same numbers a shell reports, so a child killed by SIGKILL reads as 137 everywhere.
int decode(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}

// MSG_NOSIGNAL: if the other end is gone, this is reported as an error rather than
// killing the process with SIGPIPE before it can say why.
bool send_all(int fd, const void* data, size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        ssize_t n = send(fd, p, size, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

// False on end of file as well as on error: either way the other end is gone.
bool recv_all(int fd, void* data, size_t size) {
    char* p = static_cast<char*>(data);
    while (size > 0) {
        ssize_t n = read(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

// The fork server's loop. It forks each worker from this single-threaded process, so a
// worker inherits no lock that some other thread held. Returns only in a worker, which
// then goes back through the StartMethod constructor into main() as the child.
void serve(int fd) {
    for (;;) {
        char request;
        // The parent closing its end is the only shutdown signal the server needs.
        if (!recv_all(fd, &request, 1)) _exit(0);
        pid_t worker = fork();
        if (worker == 0) {
            close(fd);  // so that the parent sees EOF if the server dies while a worker lives
            return;
        }
        int status = W_EXITCODE(1, 0);
        if (worker < 0)
            report("forkserver: fork", errno);
        else
            status = wait_status(worker);
        if (!send_all(fd, &status, sizeof status)) _exit(0);
    }
}

}  // namespace

StartMethod::StartMethod(int argc, char** argv) : argc_(argc), argv_(argv) {
    const char* prog = argc > 0 ? argv[0] : "scenario";
    const char* method = nullptr;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        const char* value = nullptr;
        if (arg == "--method") {
            if (i + 1 == argc) bad_args(prog, "--method needs a value");
            value = argv[++i];
        } else if (arg.starts_with("--method=")) {
            value = argv[i] + std::strlen("--method=");
        } else if (arg == kChildFlag) {
            child_ = true;
        }
        // Any other argument belongs to the scenario (the manifest's `args`).
        if (value != nullptr) {
            if (method != nullptr) bad_args(prog, "--method given twice");
            method = value;
        }
    }
    if (method == nullptr) bad_args(prog, "missing --method");
    std::string_view name = method;
    if (name == "fork")
        method_ = Method::fork;
    else if (name == "spawn")
        method_ = Method::spawn;
    else if (name == "forkserver")
        method_ = Method::forkserver;
    else
        bad_args(prog, "unknown --method, expected fork, spawn or forkserver");
    // Only spawn re-executes the binary; anywhere else the flag would make a parent
    // believe it is a child and skip the scenario.
    if (child_ && method_ != Method::spawn)
        bad_args(prog, "--hangar-child is only for --method spawn");

    if (method_ != Method::forkserver) return;
    int fds[2];
    // CLOEXEC so that children spawned by the scenario do not hold the server's socket.
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) {
        report("forkserver: socketpair", errno);
        std::exit(1);
    }
    pid_t pid = fork();
    if (pid < 0) {
        report("forkserver: fork", errno);
        std::exit(1);
    }
    if (pid == 0) {
        // The server must not hold the parent's end, or it would never see it close.
        close(fds[0]);
        // Like Python's fork server, which starts as a fresh image holding only its
        // socket, workers must not inherit descriptors that leaked into the scenario.
        unsigned socket_fd = static_cast<unsigned>(fds[1]);
        close_range(3, socket_fd - 1, 0);
        close_range(socket_fd + 1, ~0U, 0);
        serve(fds[1]);
        child_ = true;
        return;
    }
    close(fds[1]);
    server_fd_ = fds[0];
    server_pid_ = pid;
}

StartMethod::~StartMethod() {
    if (server_fd_ < 0) return;
    close(server_fd_);
    // Waited for so that the scenario ends only after its server, leaving no process
    // behind for the harness to mistake for a stray child.
    wait_status(server_pid_);
}

int StartMethod::run_child(const std::function<int()>& child) {
    switch (method_) {
    case Method::fork: {
        pid_t pid = fork();
        if (pid < 0) {
            report("fork", errno);
            return 1;
        }
        if (pid == 0) {
            // noexcept: an exception must end the child as under spawn (std::terminate),
            // never unwind into the parent's code. _exit: the inherited stdio buffers hold
            // the parent's pending output, which must not be written twice.
            _exit([&]() noexcept { return child(); }());
        }
        return decode(wait_status(pid));
    }
    case Method::spawn: {
        std::vector<char*> args(argv_, argv_ + argc_);
        args.push_back(const_cast<char*>(kChildFlag.data()));
        args.push_back(nullptr);
        // Descriptors are closed in the new image rather than trusted to carry CLOEXEC: a
        // scenario's own pipes and sockets must not keep the parent's ends alive.
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addclosefrom_np(&actions, 3);
        pid_t pid;
        int err = posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, args.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (err != 0) {
            report("posix_spawn /proc/self/exe", err);
            return 1;
        }
        return decode(wait_status(pid));
    }
    case Method::forkserver: {
        const char request = 'r';
        int status;
        if (!send_all(server_fd_, &request, 1) || !recv_all(server_fd_, &status, sizeof status)) {
            std::fprintf(stderr, "hangar scenario: forkserver: the server is gone\n");
            return 1;
        }
        return decode(status);
    }
    }
    return 1;
}

void mark(std::string_view what) {
    // Built on the stack and written with one write(2): async-signal-safe, so usable in
    // the child of a multi-threaded fork, and never left in a buffer by a hang.
    constexpr std::string_view prefix = "HANGAR-MARK: ";
    char line[1024];
    size_t size = std::min(what.size(), sizeof line - prefix.size() - 1);
    std::memcpy(line, prefix.data(), prefix.size());
    std::memcpy(line + prefix.size(), what.data(), size);
    size += prefix.size();
    line[size++] = '\n';
    while (write(2, line, size) < 0 && errno == EINTR) {
    }
}

}  // namespace scenario
