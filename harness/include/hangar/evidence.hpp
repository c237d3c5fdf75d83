// Evidence of a hang, taken while the tree is still alive and before it is killed: what
// /proc says of every thread, native stacks, Python tracebacks, and a signature.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "hangar/interrupt.hpp"
#include "hangar/output.hpp"
#include "hangar/proc_tree.hpp"

namespace hangar {

struct EvidenceOptions {
    // The whole capture; each tool gets what is left, and a stuck debugger is killed.
    std::chrono::milliseconds budget{8000};
    // Tried in order for native stacks: "eu-stack" (fast), then "gdb".
    std::vector<std::string> stack_tools{"eu-stack", "gdb"};
    // SIGABRT to each Python process, after the native stacks, so faulthandler (the run
    // has PYTHONFAULTHANDLER=1) prints every thread's Python stack to the run's stderr.
    bool python_tracebacks = true;
    pid_t wedged_pid = 0;  // the process stall detection found wedged, if any
    // For a timeout: why stall detection could not call it a deadlock (its last sample).
    std::string not_a_deadlock_because;
    // Ends the capture early: what was taken so far is kept.
    const Interrupt* interrupt = nullptr;
};

struct Evidence {
    std::string signature;             // "" when no stack could be read
    pid_t hung_pid = 0;                // whose stack the signature comes from
    std::vector<std::string> notes;    // what could not be captured, and why
};

// Writes into `dir`: proc.txt (every process and thread, its wait decoded), stack-PID.txt
// per process, python-PID.txt per Python process, summary.txt (signature, waits, the
// last lines of the run's output). `output` is the run's, where faulthandler writes its
// dumps. The tree is left stopped or dead; the caller kills it.
Evidence capture_evidence(pid_t root, const std::filesystem::path& dir, RunOutput& output,
                          const EvidenceOptions& options);

}  // namespace hangar
