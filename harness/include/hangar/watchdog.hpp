// Waits for a ProcessTree to end, or ends it: at its time limit or on an interrupt.
#pragma once

#include <chrono>

#include "hangar/interrupt.hpp"
#include "hangar/process.hpp"
#include "hangar/result.hpp"
#include "hangar/stall.hpp"
#include "hangar/verdict.hpp"

namespace hangar {

struct WatchOptions {
    std::chrono::milliseconds limit{10000};
    const Interrupt* interrupt = nullptr;  // optional: ends the watch early
    StallDetector* stall = nullptr;        // optional: ends a provably deadlocked run early
};

struct Watched {
    Ending ending;
    std::chrono::milliseconds elapsed{0};
    // For a hang: from the moment the tree was seen to stop progressing (deadlock), else
    // from the start (timeout).
    std::chrono::milliseconds time_to_verdict{0};
    bool interrupted = false;  // the tree was killed because of an interrupt; no verdict
};

// Blocks until the tree ends, its limit passes, stall detection proves it deadlocked, or
// the interrupt fires. A tree that ended, or was interrupted, is dead and reaped on
// return; a hung one (timed_out, deadlocked) is left alive, as it was at the verdict, for
// the caller to take evidence from before it kills it (or its destructor does).
Result<Watched> watch(ProcessTree& tree, const WatchOptions& options);

// What a short helper command did.
struct HelperRun {
    Ending ending;  // exited or signaled; a helper past its limit is an error instead
    std::string out, err;
};

// Runs a short helper command (a debugger, `python3 --version`, an rr probe) as a direct
// child, so it sees the harness's PIDs, under `limit`. A helper that overruns, or is
// interrupted, is killed and that is the error. `scratch` holds its output files for the
// duration; what it printed is read up to 16 MiB.
Result<HelperRun> run_helper(const std::vector<std::string>& argv, const std::filesystem::path& scratch,
                             std::chrono::milliseconds limit, const Interrupt* interrupt = Interrupt::installed());

}  // namespace hangar
