// What one blocked thread waits for, decoded from its system call (/proc/PID/task/TID/
// syscall: the number and six arguments) and, where arguments point into the process's
// memory (a timeout, poll's pollfd array, select's fd_sets), from that memory.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hangar/proc_tree.hpp"
#include "hangar/wait_deadline.hpp"

namespace hangar {

struct BlockingCall {
    enum class Kind {
        running,          // state R, or in user space
        uninterruptible,  // state D: the kernel works for it
        stopped,          // state T or t: whoever stopped it may continue it
        gone,             // a zombie thread: it will never act again
        futex,            // a futex wait on `address`
        fd_io,            // read/write/recv/send/accept on fds[0]
        fd_poll,          // poll/select/epoll on `fds` (epoll: the epoll descriptor)
        child,            // wait4/waitid for `child`
        sleep,            // nanosleep/clock_nanosleep
        signal,           // pause/sigsuspend/sigtimedwait: waits for a signal
        file_lock,        // flock or fcntl F_SETLKW / F_OFD_SETLKW on fds[0]
        other,            // a call hangar does not model: it may end for reasons it cannot see
    };
    Kind kind = Kind::other;
    long nr = -1;
    std::string call;  // "read", "futex", "epoll_wait"...

    uint64_t address = 0;     // futex: the word
    unsigned futex_cmd = 0;   // futex: FUTEX_WAIT (0), FUTEX_WAIT_BITSET (9), FUTEX_LOCK_PI (6)...
    uint32_t futex_value = 0; // futex: the value it waits to change (FUTEX_WAIT's val)
    bool futex_private = false;  // FUTEX_PRIVATE_FLAG: only its own process can wake it

    std::vector<int> fds;  // fd_io: the one; fd_poll: every descriptor watched
    bool writes = false;   // fd_io: a write or send
    bool accepts = false;  // fd_io: accept
    bool epoll = false;    // fd_poll: fds[0] is an epoll descriptor

    pid_t child = -1;  // child: a pid as the process sees it, or -1 for any child

    Timeout timeout;    // a sleep's length, a wait's deadline
    std::string about;  // other: what it is and why it counts as able to end
};

// Reads `n` bytes of the thread's process memory at an address; false when it cannot.
using MemoryReader = std::function<bool(uint64_t address, void* out, size_t n)>;

// Decodes `t`'s blocking call. Arguments that cannot be read make a Timeout::unknown (the
// wait may end in time) or an `other` call, never an untimed wait.
BlockingCall decode_call(const ThreadState& t, const MemoryReader& memory);

// "read(fd 5)", "futex(0x7f.., FUTEX_WAIT|PRIVATE, 2)", "poll(fds 3 7, a 100 ms timeout)".
std::string describe(const BlockingCall& c, SteadyClock::time_point now);

}  // namespace hangar
