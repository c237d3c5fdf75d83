// A PID namespace, with a /proc of its own, that runs are started in one after another.
// Creating a namespace (a reaper process, the namespaces, a proc mount) costs about as much
// as starting a small program, so each harness thread keeps one for all its runs.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "hangar/result.hpp"

namespace hangar {

// The namespace's init (PID 1) is a small reaper of ours, forked from the harness. It starts
// each run's command as its own child, adopts whatever the command leaves behind, and when
// the command ends, or the harness asks, kills every process in the namespace but itself
// and reaps them all before it answers: an answer proves the run's whole tree is gone,
// daemons included. When the reaper dies the kernel kills the whole namespace, and it dies
//   - when this object is destroyed,
//   - when the harness thread that created it ends, even by SIGKILL of the harness
//     (PR_SET_PDEATHSIG, plus a lifeline pipe for the moment of its birth).
//
// REQUIRES: the thread that calls create() outlives the object. One run at a time. Needs
// root or unprivileged user namespaces.
class PidNamespace {
public:
    // `isolate`: the runs see every mount read-only, with a /tmp and /dev/shm of their own,
    // and their commands start with no capabilities and no_new_privs (--isolate).
    static Result<PidNamespace> create(bool isolate = false);

    PidNamespace(PidNamespace&& other) noexcept;
    PidNamespace& operator=(PidNamespace&& other) noexcept;
    PidNamespace(const PidNamespace&) = delete;
    PidNamespace& operator=(const PidNamespace&) = delete;
    ~PidNamespace();

    // The reaper's PID in our namespace: every process of a run is below it.
    pid_t init_pid() const { return init_; }

    // False once the reaper has died (nothing can start in the namespace any more).
    bool usable() const { return init_ > 0; }

    // True when the namespace could not mount a /proc of its own: /proc/<pid> inside a
    // run then names processes of the harness's namespace.
    bool shares_host_proc() const { return shares_host_proc_; }

    // Starts `path` with `argv` and `envp` (each "NAME=value") as the reaper's child, its
    // stdin, stdout and stderr being the given fds (which the caller keeps). Returns once the
    // command has exec'd, or failed to (then ended_fd() is readable, status 127).
    Status start(const std::string& path, const std::vector<std::string>& argv,
                 const std::vector<std::string>& envp, int stdin_fd, int stdout_fd, int stderr_fd);

    // Becomes readable when the running command has ended and the namespace is empty again.
    int ended_fd() const { return control_fd_; }

    // After ended_fd() is readable: the command's wait status.
    Result<int> finish();

    // Kills every process of the run and returns the command's wait status once the
    // namespace is empty. Returns at once, with an error, when no run is going on. Bounded:
    // past kKillLimitMs, or on an interrupt, the whole namespace is killed instead.
    Result<int> kill_run();

    bool running() const { return running_; }

    // How long hangar waits on its reaper: to exec a command, to empty the namespace, and
    // for the reaper itself to be reaped once killed.
    static constexpr int kStartLimitMs = 30'000;
    static constexpr int kKillLimitMs = 10'000;
    static constexpr int kReapLimitMs = 2'000;

private:
    PidNamespace() = default;
    Result<int> read_ending(int timeout_ms);  // -1: the answer is already there
    // Waits for a message from the reaper; on a timeout or an interrupt, shuts the namespace.
    Status await_answer(int timeout_ms);
    void shut();

    pid_t init_ = -1;
    int control_fd_ = -1;  // us <-> reaper, SOCK_SEQPACKET
    int lifeline_fd_ = -1;
    int plan_fd_ = -1;     // a memfd the command's path, argv and environment are written to
    bool shares_host_proc_ = false;
    bool running_ = false;
};

}  // namespace hangar
