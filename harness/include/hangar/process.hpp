// A command started in a PID namespace of its own, so that its whole tree, daemons
// included, can be killed at once and can never outlive the harness.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "hangar/result.hpp"

namespace hangar {

struct CommandSpec {
    std::vector<std::string> argv;         // argv[0]: absolute path, or a name found on PATH
    std::vector<std::string> environment;  // the whole environment, "NAME=value"
    std::filesystem::path stdout_path;     // created (truncated); stdin is /dev/null
    std::filesystem::path stderr_path;
    // false: no PID namespace, the command is our direct child. For tools that must see
    // the harness's PIDs (debuggers attaching to a hung run); they start no daemons.
    bool contain = true;
};

// The environment of this process, for a CommandSpec to start from.
std::vector<std::string> current_environment();

// Resolves a program name the way execvp would, once, before any process is started.
Result<std::filesystem::path> find_program(const std::string& name);

// How the tree is contained. A small reaper of ours is PID 1 of a new PID namespace and
// the command is its child. When that reaper dies, the kernel kills every process in
// the namespace, however it daemonised (setsid, double fork). The reaper dies
//   - after reporting the command's exit (so nothing the command left behind survives),
//   - when the harness kills it (timeout, interrupt), and
//   - when the harness thread that started it dies, even by SIGKILL (PR_SET_PDEATHSIG).
// Reaping the reaper therefore proves the whole tree is gone.
//
// REQUIRES: the thread that calls launch() outlives the ProcessTree (PDEATHSIG fires
// when that thread exits). Needs root or unprivileged user namespaces.
class ProcessTree {
public:
    static Result<ProcessTree> launch(const CommandSpec& spec);

    ProcessTree(ProcessTree&& other) noexcept;
    ProcessTree& operator=(ProcessTree&& other) noexcept;
    ProcessTree(const ProcessTree&) = delete;
    ProcessTree& operator=(const ProcessTree&) = delete;
    ~ProcessTree();  // kills and reaps whatever is still alive

    // PID (in our namespace) of the reaper; the command is its only direct child. With
    // `contain = false`, the command itself.
    pid_t reaper_pid() const { return reaper_; }

    // Becomes readable when the command has ended (or the reaper died).
    int ended_fd() const { return status_fd_; }

    // After ended_fd() is readable: the command's wait status, the reaper reaped, and with
    // it every other process of the tree.
    Result<int> collect();

    // Kills every process of the tree and reaps the reaper. Idempotent.
    void kill();

    bool alive() const { return reaper_ > 0; }

private:
    ProcessTree(pid_t reaper, int status_fd, int lifeline_fd, bool direct)
        : reaper_(reaper), status_fd_(status_fd), lifeline_fd_(lifeline_fd), direct_(direct) {}
    void release_fds();

    pid_t reaper_ = -1;
    int status_fd_ = -1;    // reaper -> us: the command's wait status; direct: a pidfd
    int lifeline_fd_ = -1;  // us -> reaper: its closing tells a reaper born late that we died
    bool direct_ = false;
};

}  // namespace hangar
