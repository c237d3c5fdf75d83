#include "hangar/stall.hpp"

#include <algorithm>
#include <utility>

#include "hangar/wait_graph.hpp"

namespace hangar {

StallSample judge_sample(const std::vector<ProcessState>& tree, FactsSource& facts, const RunWindow* window,
                         SteadyClock::time_point now) {
    StallSample s;
    if (tree.empty()) {
        s.reason = "no process in the tree";
        return s;
    }
    WaitGraph::Options options;
    options.window = window;
    options.now = now;
    options.stop_at_first_live = true;  // a live thread settles it: read no further
    const WaitGraph graph = WaitGraph::build(tree, facts, options);
    if (!graph.deadlocked()) {
        s.reason = graph.why_live();
        if (!graph.outlasts_limit()) return s;
        s.late = true;
    }
    // What must stay the same over the window. A thread waiting for the GIL wakes every
    // 5 ms to ask for it and waits again: its CPU time moves and its deadline changes,
    // which is no progress; its wait is "the GIL".
    std::vector<std::pair<pid_t, std::string>> waits;
    size_t i = 0;
    for (const auto& p : tree)
        for (const auto& t : p.threads) {
            const WaitNode& n = graph.nodes()[i++];
            if (n.gil) {
                waits.emplace_back(t.tid, "gil");
                continue;
            }
            s.cpu_time += t.cpu_time;
            std::string key = std::to_string(t.syscall);
            for (uint64_t a : t.args) key += " " + std::to_string(a);
            waits.emplace_back(t.tid, std::move(key));
        }
    std::sort(waits.begin(), waits.end());
    for (auto& [tid, key] : waits) {
        s.tids.push_back(tid);
        s.waits.push_back(std::move(key));
    }
    s.stalled = true;
    s.structural = graph.structural();
    return s;
}

bool StallDetector::observe(pid_t root, Clock::time_point now) {
    // Most samples of a live run end here, at the first running thread.
    if (std::string running = first_running(root); !running.empty()) {
        last_ = StallSample{};
        last_.reason = running;
        onset_.reset();
        return false;
    }
    if (now < next_full_) return false;  // the last full sample was costly: the verdict can wait
    const auto began = Clock::now();
    ProcFacts facts;
    const bool deadlocked = observe(snapshot_tree(root), facts, now);
    next_full_ = now + 5 * (Clock::now() - began);
    return deadlocked;
}

bool StallDetector::observe(const std::vector<ProcessState>& tree, FactsSource& facts, Clock::time_point now) {
    last_ = judge_sample(tree, facts, window(), now);
    if (!last_.stalled) {
        onset_.reset();
        return false;
    }
    const bool unchanged = onset_ && last_.late == first_.late && last_.cpu_time == first_.cpu_time && last_.tids == first_.tids &&
                           last_.waits == first_.waits;
    if (!unchanged) {  // a new stretch starts here
        onset_ = now;
        first_ = last_;
        return false;
    }
    const auto confirm = first_.structural && last_.structural ? options_.confirm_structural : options_.confirm;
    return now - *onset_ >= confirm;
}

}  // namespace hangar
