// A command started in a PID namespace, so that its whole tree, daemons included, can be
// killed at once and can never outlive the harness.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "hangar/pid_namespace.hpp"
#include "hangar/result.hpp"

namespace hangar {

struct CommandSpec {
    std::vector<std::string> argv;         // argv[0]: absolute path, or a name found on PATH
    std::vector<std::string> environment;  // the whole environment, "NAME=value"
    std::filesystem::path stdout_path;     // created (truncated); stdin is /dev/null
    std::filesystem::path stderr_path;
    // When set (a RunOutput's pipes), the command's stdout and stderr instead of the paths;
    // the caller keeps them.
    int stdout_fd = -1, stderr_fd = -1;
    // false: no PID namespace, the command is our direct child. For tools that must see
    // the harness's PIDs (debuggers attaching to a hung run); they start no daemons.
    bool contain = true;
};

// The environment of this process, for a CommandSpec to start from.
std::vector<std::string> current_environment();

// Resolves a program name the way execvp would, once, before any process is started.
Result<std::filesystem::path> find_program(const std::string& name);

// How the tree is contained: the command is started in a PidNamespace (see there), as the
// child of a reaper of ours that kills everything in the namespace once the command ends,
// or when asked, before it reports. A collected or killed tree is therefore wholly gone,
// however it daemonised (setsid, double fork), and no tree outlives the harness.
//
// REQUIRES: the thread that calls launch() outlives the ProcessTree (and the namespace).
class ProcessTree {
public:
    // In a namespace of its own, created for this one run.
    static Result<ProcessTree> launch(const CommandSpec& spec);
    // In `ns`, kept by the caller for many runs, one at a time; it must outlive the tree.
    static Result<ProcessTree> launch(const CommandSpec& spec, PidNamespace& ns);

    ProcessTree(ProcessTree&& other) noexcept;
    ProcessTree& operator=(ProcessTree&& other) noexcept;
    ProcessTree(const ProcessTree&) = delete;
    ProcessTree& operator=(const ProcessTree&) = delete;
    ~ProcessTree();  // kills and reaps whatever is still alive

    // The process every process of the run is below (in our namespace): the namespace's
    // reaper, itself no part of the run, or with `contain = false` the command itself.
    pid_t root_pid() const { return root_; }

    // Becomes readable when the command has ended (and, contained, its tree with it).
    int ended_fd() const { return ended_fd_; }

    // After ended_fd() is readable: the command's wait status. Every other process of the
    // tree is gone too.
    Result<int> collect();

    // Kills every process of the tree and reaps them. Idempotent.
    void kill();

    bool alive() const { return root_ > 0; }

    // When launch() began: before the command could start, so every call of the run
    // began after it (stall detection bounds relative timeouts with it).
    std::chrono::steady_clock::time_point started() const { return started_; }

private:
    ProcessTree() = default;
    void release();

    pid_t root_ = -1;
    int ended_fd_ = -1;                      // the namespace's control socket, or a pidfd
    PidNamespace* ns_ = nullptr;             // contained runs
    std::unique_ptr<PidNamespace> own_ns_;   // ... in a namespace of their own
    int lifeline_fd_ = -1;                   // direct: its closing tells a child born late that we died
    std::chrono::steady_clock::time_point started_{};
};

}  // namespace hangar
