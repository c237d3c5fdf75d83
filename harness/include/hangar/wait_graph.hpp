// A wait-for graph over a run's whole tree, from one /proc sample: for every thread, what
// it waits for and which threads could end that wait, and whether it is live: able to act
// before the run's time limit.
//
// A thread is live by itself when it runs, is in uninterruptible sleep (the kernel works
// for it), is stopped (whoever stopped it may continue it), waits with a timeout that can
// expire before the run's limit, waits for something from outside the tree (a pipe or
// socket whose other end no process of the tree holds, a named FIFO, a terminal, a
// listening socket, a signal), may be woken by a timer (an alarm, a POSIX timer, a
// timerfd), or waits in a call hangar does not model. It is live through others when a
// live thread could end its wait: a futex by a thread that can reach its word, a pipe or
// socket by a holder of the other end, a child wait by the child.
//
// Any live thread could also signal or kill any process of the tree, so a run is proven
// deadlocked only when no thread of the tree is live at all: then nothing can ever send
// anything, and the fixpoint below is empty exactly when no thread is live by itself. The
// graph's edges serve the evidence: they name the wait at the root of the hang.
//
// Blind spots, said where they are decided: alarm()/setitimer(ITIMER_REAL) are seen only
// through /proc/timer_list (root); clock changes and outside processes (a kill, a write to
// a file-backed shared futex from outside) are counted as intervention, not as progress.
#pragma once

#include <sys/types.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hangar/blocking_call.hpp"
#include "hangar/proc_tree.hpp"
#include "hangar/process_facts.hpp"
#include "hangar/wait_deadline.hpp"

namespace hangar {

struct WaitNode {
    pid_t pid = 0, tid = 0;
    std::string comm;
    uint64_t cpu_time = 0;
    std::string wchan;  // the kernel function it sleeps in
    BlockingCall call;

    bool live = false;            // may act before the run's limit
    bool live_by_itself = false;  // ... without another thread's help
    std::string because;          // why it is live by itself
    size_t live_through = 0;      // live through others: the index of a live waker

    std::string waits;                 // "reads pipe:[8812]", "waits for child pid 43"
    std::string enders;                // "whose writers are pid 43": who could end it
    std::vector<size_t> wakers;        // the nodes that could end its wait
    std::vector<pid_t> other_side;     // the processes at the other end of its pipes and sockets
    std::set<std::string> resources;   // what it waits on, as SystemFacts::held_outside names it

    // A pthread mutex's owner, read from the lock word (glibc's __owner, or a PI futex's
    // value): a thread id as the process sees it.
    pid_t owner = 0;
    bool owner_outside = false;  // the owner is no thread of the process: held across fork
    std::string owner_note;      // where the owner is, when hangar can tell
    bool gil = false;            // a CPython thread waiting for the GIL
};

class WaitGraph {
public:
    struct Options {
        const RunWindow* window = nullptr;  // without one, every timed wait counts as live
        SteadyClock::time_point now = SteadyClock::now();
        // Stop at the first thread found live (a sample that only needs the verdict); the
        // graph is then partial.
        bool stop_at_first_live = false;
        // Search the machine's other processes for holders of the run's files once nothing
        // else is live (SystemFacts::held_outside).
        bool search_outside = true;
    };

    static WaitGraph build(const std::vector<ProcessState>& tree, FactsSource& facts, const Options& options);

    const std::vector<WaitNode>& nodes() const { return nodes_; }
    // No thread of the tree can act, before the run's limit or ever: the run can never
    // make progress again.
    bool deadlocked() const { return !nodes_.empty() && !any_live_ && late_.empty(); }
    // No thread can act before the run's limit, but one can after it (a late deadline,
    // timer or alarm), and then end any wait: the run is proven to outlast its limit (a
    // timeout, known early), not stuck.
    bool outlasts_limit() const { return !nodes_.empty() && !any_live_ && !late_.empty(); }
    // The first thread found live by itself, or nullptr.
    const WaitNode* first_live() const;
    // Why the run is not proven deadlocked, in one sentence, for a timeout's evidence.
    std::string why_live() const;
    // A stuck thread waits on a pthread mutex whose owner is no thread of its process:
    // the proof is structural, not only an absence of activity.
    bool structural() const;

    // The chain of waits from the command's main thread to the wait the others wait on;
    // its last node is the root of the hang. Prefers lock and I/O waits over joins and
    // child waits; in a cycle, ends at the thread whose resource closes it.
    std::vector<const WaitNode*> root_path() const;
    const WaitNode* root() const;

    // One sentence per thread, and the chain to the root: for the evidence.
    std::string render() const;
    // "pid 41 thread 41 [python3] reads pipe:[8812], whose writers are pid 43".
    std::string sentence(const WaitNode& n) const;

private:
    std::vector<WaitNode> nodes_;
    std::vector<pid_t> processes_;  // in tree order, the command first
    bool any_live_ = false;
    std::string late_;  // no thread live before the limit: one that can act after it
    SteadyClock::time_point now_{};
};

}  // namespace hangar
