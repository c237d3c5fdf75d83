// What /proc says about every process of a run's tree: per thread its state, the system
// call it is blocked in and how long that wait may last, and its CPU time.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace hangar {

// How a thread waits, judged from /proc/TID/syscall. "Untimed" waits have no deadline;
// "private" futexes can only be woken by threads of the same process (FUTEX_PRIVATE_FLAG).
enum class Wait {
    running,                // state R, or executing in user space
    private_futex_untimed,  // only its own process could ever wake it
    shared_futex_untimed,   // a process-shared lock: another process may release it
    timed,                  // sleep, or any wait with a deadline: will wake by itself
    child_wait,             // wait4/waitid, untimed
    io_untimed,             // read, poll(-1), accept...: another process may answer
    other_untimed,          // some other blocking call without a deadline
    uninterruptible,        // state D: the kernel is working for it
    stopped,                // T/t: stopped or traced
    gone,                   // exited while we looked
};

std::string_view to_string(Wait w);

struct ThreadState {
    pid_t tid = 0;
    char state = '?';         // from /proc/TID/stat
    std::string comm;
    std::string wchan;        // kernel function it sleeps in, e.g. futex_do_wait
    long syscall = -1;        // number, or -1 when running in user space / unknown
    std::array<uint64_t, 6> args{};
    uint64_t sp = 0, pc = 0;  // user stack pointer and program counter at the call
    uint64_t cpu_time = 0;    // ns on the CPU (schedstat), else utime + stime ticks
    Wait wait = Wait::gone;

    // The blocking call decoded for a human, e.g. "futex(0x7f.., FUTEX_WAIT private, untimed)".
    std::string describe() const;
};

struct ProcessState {
    pid_t pid = 0;    // as hangar sees it
    pid_t ppid = 0;
    std::string cmdline;  // arguments joined by spaces
    std::string exe;      // /proc/PID/exe target
    std::vector<ThreadState> threads;

    bool is_python() const;
    // Every thread blocked in an untimed private futex wait: nothing outside this process
    // can ever end the wait, and no thread inside is free to.
    bool wedged() const;
};

// Every process below `root` (not `root` itself), found through
// /proc/PID/task/TID/children, parents before children.
std::vector<ProcessState> snapshot_tree(pid_t root);

// The first thread below `root` that runs or is in uninterruptible sleep, as "pid P thread
// T [comm] is running"; "" when there is none. Reads only each thread's stat, and stops at
// the first: the cheap look that ends most samples of a live run.
std::string first_running(pid_t root);

// Classifies one thread from its /proc/TID/stat state and /proc/TID/syscall line.
Wait classify_wait(char state, const std::string& syscall_line, long* number = nullptr,
                   std::array<uint64_t, 6>* args = nullptr);

}  // namespace hangar
