// rr recordings of runs, where the machine allows: a hang or failure can be replayed
// exactly with `rr replay`. Where rr cannot record (no hardware performance counters,
// as in most VMs), the probe says why and runs go on unrecorded; nothing is faked.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "hangar/result.hpp"

namespace hangar {

struct Recorder {
    bool available = false;
    std::string reason;          // when unavailable: rr's own words, or what is missing
    std::filesystem::path rr;    // the rr binary ($HANGAR_RR overrides, for tests)
    bool chaos = false;          // rr record --chaos: randomised scheduling finds races sooner

    // `argv` run under `rr record`, its trace written to `trace_dir`.
    std::vector<std::string> wrap(const std::vector<std::string>& argv, const std::filesystem::path& trace_dir) const;
    // The command that replays a kept trace.
    std::string replay_command(const std::filesystem::path& trace_dir) const;
};

// Records `/bin/true` once, under a time limit, in `scratch` (removed afterwards).
Recorder probe_recorder(const std::filesystem::path& scratch, bool chaos);

}  // namespace hangar
