// Proves from outside, well before any timeout, that a run can never finish.
//
// Each sample builds the tree's wait-for graph (wait_graph.hpp). A run is deadlocked when,
// in every sample of a confirmation window, no thread of the tree is live (none can act
// before the run's time limit, by itself or through another), and the tree's threads,
// their waits and their CPU times did not change. Anything else keeps the run going to its
// time limit, and its evidence says which thread could still act.
//
// The window is short (50 ms) when the proof is structural: a thread waits on a pthread
// mutex whose owner is no thread of its process (held across fork), which nothing in the
// process can ever release; otherwise it is 150 ms.
//
// Periodic wakers are live on purpose: a heartbeat thread that sleeps 100 ms, acts and
// sleeps again, or a sanitizer's background thread, keeps the verdict a timeout. From
// outside, a healthy watchdog that will kill a stuck child in 2 s (corpus
// watchdog_restart) looks exactly like a heartbeat next to a child stuck for good
// (heartbeat_inherited_lock) until the watchdog acts; only a timeout is honest for both.
//
// Blind spots. alarm() and setitimer(ITIMER_REAL) leave no trace in a process's /proc
// files. hangar reads /proc/timer_list, which lists every pending one of the machine but
// not whose it is: while one can fire before the run's limit, no process of the tree that
// does not ignore SIGALRM is proven stuck. /proc/timer_list is root's: without it only a
// caught SIGALRM (SigCgt) is seen, and a process that keeps SIGALRM's default action with
// an alarm armed is the blind spot: it would die when the alarm fires (ending its parent's
// wait for it, closing its pipes) after hangar called the run deadlocked. Timers that
// only CPU time moves (ITIMER_VIRTUAL and ITIMER_PROF, SIGVTALRM and SIGPROF) cannot fire
// while nothing in the process runs. Outside the tree, hangar counts a kill, a changed
// system clock or a write into a shared file mapping by another process as intervention,
// not as the run's progress; a pipe, socket or FIFO whose other end lies outside is live.
// What hangar reads now, the kernel copied when the call began: a poll array or fd_set,
// a socket's SO_RCVTIMEO, or a fd number reused by a file of the same kind, that another
// thread changed since, is the blind spot (as are F_SETSIG file-event signals, and a file
// sent out over a socket closed since, still in flight or held where hangar cannot read) (a fd number that means another file
// now is caught where the kernel function the thread sleeps in belongs to another kind of
// file, an epoll target by kcmp, a timeout off the thread's own stack is not trusted to
// last past the limit). A file sent out of the tree over a Unix socket that has closed
// since (SCM_RIGHTS) is found by searching the other processes' files and shared mappings
// (held_outside) once nothing else is live; one hangar may not read is the blind spot.
// io_uring and Linux AIO make their process live (the kernel completes requests in its
// own time), as does a deadline in a time namespace whose clocks are offset.
//
// Costs: a sample first looks for a running thread, reading only each thread's stat, and
// stops at the first; only a tree with no running thread is read in full, and the graph
// reads open files, memory and the machine's socket and timer tables only as far as it
// needs to find a live thread. A full sample of a large tree can cost more than the
// interval allows: the next full one waits until the last one's cost is at most a fifth
// of the time since, so detection never takes more than a fifth of a core.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "hangar/proc_tree.hpp"
#include "hangar/process_facts.hpp"
#include "hangar/wait_deadline.hpp"

namespace hangar {

struct StallOptions {
    std::chrono::milliseconds interval{25};            // between samples
    std::chrono::milliseconds confirm{150};            // how long the criteria must hold unchanged
    std::chrono::milliseconds confirm_structural{50};  // ... when a mutex's owner is not in its process
};

// What one sample says, and why, for the evidence.
struct StallSample {
    bool stalled = false;     // no thread of the tree is live in this sample
    bool late = false;        // stalled before the limit, but a thread can act after it: a timeout
    std::string reason;       // when not stalled: what keeps the run alive (in a timeout's evidence)
    bool structural = false;  // stalled, and a mutex's owner is no thread of its process
    uint64_t cpu_time = 0;    // summed over the tree (threads waiting for the GIL left out)
    std::vector<pid_t> tids;  // every thread of the tree, sorted
    std::vector<std::string> waits;  // per thread, in the order of `tids`: its blocking call
};

// Judges one snapshot of the tree with the facts of its processes. `window`: the run's
// start and limit (timed waits that cannot end before the limit count as untimed); null
// when unknown.
StallSample judge_sample(const std::vector<ProcessState>& tree, FactsSource& facts, const RunWindow* window,
                         SteadyClock::time_point now);

class StallDetector {
public:
    using Clock = std::chrono::steady_clock;
    explicit StallDetector(StallOptions options = {}) : options_(options) {}

    const StallOptions& options() const { return options_; }

    // The run's time frame (the watchdog sets it when it starts watching).
    void set_window(RunWindow window) { window_ = window; }
    const RunWindow* window() const { return window_ ? &*window_ : nullptr; }

    // Samples the tree below `root` at `now`; true once the run is proven deadlocked, or
    // (outlasts()) proven unable to finish before its limit.
    bool observe(pid_t root, Clock::time_point now);

    // Same, from a snapshot already taken (tests, or a caller that samples itself).
    bool observe(const std::vector<ProcessState>& tree, FactsSource& facts, Clock::time_point now);

    // When the tree was first seen stalled in the current unbroken stretch.
    std::optional<Clock::time_point> onset() const { return onset_; }
    const StallSample& last() const { return last_; }
    // The proof observe() returned is that the run will outlast its limit, not a deadlock.
    bool outlasts() const { return last_.late; }

private:
    StallOptions options_;
    std::optional<RunWindow> window_;
    Clock::time_point next_full_{};  // no full sample before this (their cost, above)
    std::optional<Clock::time_point> onset_;
    StallSample first_, last_;
};

}  // namespace hangar
