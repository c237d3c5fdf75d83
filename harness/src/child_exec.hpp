// What a new process does between its clone and execve: in a copy of the multi-threaded
// harness, only system calls are safe there (no malloc, no locks another thread may hold:
// the very bug hangar studies), so everything it needs is prepared before the clone.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace hangar::detail {

struct ExecPlan {
    const char* path;
    char* const* argv;
    char* const* envp;
    int stdin_fd, stdout_fd, stderr_fd;
    bool drop_privileges = false;  // --isolate: no capabilities, no_new_privs
};

// Moves the three fds to 0-2, closes every other fd, resets signal handling, and execs.
// Exits 127 (after a line on stderr) when the exec fails.
[[noreturn]] void exec_plan(const ExecPlan& plan);

// Starts a process that shares the caller's memory until it execs (a vfork: copying the
// page tables of the harness would cost more than the whole exec) and runs `entry(arg)`,
// which must end in exec_plan. Returns its PID, or -1 with errno set.
pid_t vfork_clone(int (*entry)(void*), void* arg);

void write_all(int fd, const void* data, size_t size);
void write_str(int fd, const char* s);

// Closes every descriptor but `keep` (sorted ascending), so that fds of other runs
// started concurrently by other harness threads never leak into a tree.
void close_all_except(const int* keep, int n);

}  // namespace hangar::detail
