// What the code hangar injects into a run (the preload library, preload/README.md; the
// Python start-up hook, python/README.md) wrote to the run's events file, read back and
// joined: each fork hazard with the holder's Python stack and with whether the child then
// waited on what was held.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace hangar {

// One lock (or glibc call) another thread held when a thread forked.
struct HeldAtFork {
    std::string kind;   // pthread_mutex | pthread_rwlock_write | pthread_rwlock_read | sem | libc_call
    std::string addr;   // "0x..." for locks
    std::string call;   // libc_call: the glibc function the holder was inside
    std::string lock;   // libc_call: the glibc lock it takes
    long holder_tid = 0;
    std::string holder;       // the holder thread's name
    std::string acquired_at;  // where it took the lock: "module(symbol+0xOFF)"
    std::vector<std::string> native;  // its native stack at the fork, innermost first
    std::string stack_note;           // why there is no native stack
    std::vector<std::string> python;  // its Python stack, innermost first: "file:line in function: source"
    bool child_waited = false;        // the child then waited on it (inherited_wait)
    std::string signature;            // "held lock in logging/__init__.py:emit", "inside getaddrinfo"
};

struct ForkHazard {
    long parent = 0, tid = 0, child = 0;
    std::string thread;  // the forking thread's name
    std::vector<HeldAtFork> held;
};

struct RunEvents {
    // The preload library: whether it ran in the run's processes, and what it saw.
    std::vector<long> forkwatch_pids;    // processes that loaded it
    std::vector<ForkHazard> forks;       // forks with a hazard, the first kMaxForks of them
    int hazard_forks = 0;                // all of them
    std::vector<std::string> unavailable;  // what it could not do, and why

    // The Python start-up hook.
    std::vector<long> hook_pids;                // Python processes it ran in
    int main_runs = 0;                          // processes that ran the main script as __main__
    std::map<std::string, int> child_starts;    // start method really used -> children started
    struct Line {
        std::string file;
        int line = 0;
        std::string source;
        int processes = 0;    // children that re-ran it
        bool action = false;  // it starts or opens something (what hangar check reports)
    };
    std::vector<Line> reimported;  // top-level lines children re-ran as __mp_main__, in order
    // Children that re-ran an action line of the main script: the workflow started again in
    // them (a guarded script's children re-run only its imports and definitions).
    int reimporting_children = 0;
    std::vector<std::string> hook_errors;

    size_t skipped = 0;  // records past the read limit, or not JSON
};

inline constexpr size_t kMaxForks = 10;

// Reads at most `limit` bytes of the events file; a missing file is no events.
RunEvents read_events(const std::filesystem::path& file, size_t limit = 16 << 20);

// The short name a hazard goes by, for grouping runs: what was held, and where.
std::string hazard_signature(const HeldAtFork& held);

// Frames the preload library could only write as "/path/module+0xOFF" (a static function,
// which dladdr does not see) get their function from the module's debug information
// (eu-addr2line, one call per module, `scratch` for its output), and the signatures follow.
void name_frames(std::vector<ForkHazard>& forks, const std::filesystem::path& scratch);

}  // namespace hangar
