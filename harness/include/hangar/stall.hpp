// Proves from outside, well before any timeout, that a run can never finish.
//
// A run is deadlocked when, in every sample of a confirmation window:
//   - some process is wedged: every thread in an untimed private futex wait, which
//     nothing outside that process can end (FUTEX_PRIVATE_FLAG) and no free thread
//     inside it can end either;
//   - no thread anywhere in the tree is runnable, in uninterruptible sleep, or in a
//     timed wait (a sleep or a wait with a deadline wakes by itself and may act);
//   - the tree's threads and their CPU times did not change.
// Anything else keeps the run going to its time limit. Known blind spot: a read on a
// socket with SO_RCVTIMEO looks untimed in /proc; a process waking from one could still
// end the run after a deadlock verdict.
#pragma once

#include <chrono>
#include <optional>
#include <vector>

#include "hangar/proc_tree.hpp"

namespace hangar {

struct StallOptions {
    std::chrono::milliseconds interval{25};  // between samples
    std::chrono::milliseconds confirm{150};  // how long the criteria must hold unchanged
};

// What one sample says, and why, for the evidence.
struct StallSample {
    bool stalled = false;          // the criteria hold in this sample
    std::string reason;            // when not stalled: what keeps the run alive (in a timeout's evidence)
    pid_t wedged_pid = 0;          // when stalled: a wedged process
    uint64_t cpu_time = 0;         // summed over the tree
    std::vector<pid_t> tids;       // every thread of the tree, sorted
};

StallSample judge_sample(const std::vector<ProcessState>& tree);

class StallDetector {
public:
    using Clock = std::chrono::steady_clock;
    explicit StallDetector(StallOptions options = {}) : options_(options) {}

    const StallOptions& options() const { return options_; }

    // Samples the tree below `root` at `now`; true once the run is proven deadlocked.
    bool observe(pid_t root, Clock::time_point now);

    // Same, from a snapshot already taken (tests, or a caller that samples itself).
    bool observe(const std::vector<ProcessState>& tree, Clock::time_point now);

    // When the tree was first seen stalled in the current unbroken stretch.
    std::optional<Clock::time_point> onset() const { return onset_; }
    const StallSample& last() const { return last_; }

private:
    StallOptions options_;
    std::optional<Clock::time_point> onset_;
    StallSample first_, last_;
};

}  // namespace hangar
