#include "hangar/stall.hpp"

#include <algorithm>

namespace hangar {

StallSample judge_sample(const std::vector<ProcessState>& tree) {
    StallSample s;
    for (const auto& p : tree) {
        for (const auto& t : p.threads) {
            s.cpu_time += t.cpu_time;
            s.tids.push_back(t.tid);
            if (s.reason.empty() && (t.wait == Wait::running || t.wait == Wait::timed ||
                                     t.wait == Wait::uninterruptible)) {
                s.reason = "pid " + std::to_string(p.pid) + " thread " + std::to_string(t.tid) + " is " +
                           std::string(to_string(t.wait));
            }
        }
        if (!s.wedged_pid && p.wedged()) s.wedged_pid = p.pid;
    }
    std::sort(s.tids.begin(), s.tids.end());
    if (tree.empty()) s.reason = "no process in the tree";
    else if (s.reason.empty() && !s.wedged_pid) s.reason = "no process has all its threads in untimed private futex waits";
    s.stalled = s.reason.empty();
    return s;
}

bool StallDetector::observe(pid_t root, Clock::time_point now) { return observe(snapshot_tree(root), now); }

bool StallDetector::observe(const std::vector<ProcessState>& tree, Clock::time_point now) {
    last_ = judge_sample(tree);
    bool unchanged = onset_ && last_.cpu_time == first_.cpu_time && last_.tids == first_.tids;
    if (!last_.stalled) {
        onset_.reset();
        return false;
    }
    if (!unchanged) {  // a new stretch starts here
        onset_ = now;
        first_ = last_;
        return false;
    }
    return now - *onset_ >= options_.confirm;
}

}  // namespace hangar
