// Evidence of a hang, taken while the tree is still alive and before it is killed: what
// /proc says of every thread, native stacks, Python tracebacks, and a signature.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "hangar/interrupt.hpp"
#include "hangar/output.hpp"
#include "hangar/proc_tree.hpp"
#include "hangar/wait_deadline.hpp"

namespace hangar {

struct EvidenceOptions {
    // The whole capture; each tool gets what is left, and a stuck debugger is killed.
    std::chrono::milliseconds budget{8000};
    // Tried in order for native stacks: "eu-stack" (fast), then "gdb".
    std::vector<std::string> stack_tools{"eu-stack", "gdb"};
    // SIGABRT to each Python process, after the native stacks, so faulthandler (the run
    // has PYTHONFAULTHANDLER=1) prints every thread's Python stack to the run's stderr.
    bool python_tracebacks = true;
    // The run's start and limit, so that the wait-for graph judges deadlines as stall
    // detection did (wait_graph.hpp); without it every timed wait counts as live.
    std::optional<RunWindow> window;
    // For a timeout: why stall detection could not call it a deadlock (its last sample).
    std::string not_a_deadlock_because;
    // The verdict is a proven deadlock: the graph in the evidence is taken from a sample
    // that shows it (a few tries, while a GIL waiter is caught awake).
    bool proven_deadlock = false;
    // Ends the capture early: what was taken so far is kept.
    const Interrupt* interrupt = nullptr;
};

struct Evidence {
    std::string signature;             // "" when no stack could be read
    pid_t hung_pid = 0;                // whose stack the signature comes from
    pid_t hung_tid = 0;                // ... and which thread: the root of the wait-for graph
    std::vector<std::string> notes;    // what could not be captured, and why
};

// Writes into `dir`: proc.txt (every process and thread, its wait decoded), graph.txt (the
// wait-for graph in sentences, and the chain to its root), stack-PID.txt per process,
// python-PID.txt per Python process, summary.txt (signature, root of the wait, the graph,
// waits, the last lines of the run's output). The signature names the root of the graph:
// the wait the others wait on, not merely the deepest idle process. `output` is the run's, where faulthandler writes its
// dumps. The tree is left stopped or dead; the caller kills it.
Evidence capture_evidence(pid_t root, const std::filesystem::path& dir, RunOutput& output,
                          const EvidenceOptions& options);

}  // namespace hangar
