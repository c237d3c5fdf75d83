// Runs the cells of a matrix: each run of each cell in its own supervised process tree,
// several at once with `jobs`, evidence in one folder per run.
#pragma once

#include <chrono>
#include <optional>
#include <filesystem>
#include <vector>

#include "hangar/evidence.hpp"
#include "hangar/interrupt.hpp"
#include "hangar/recorder.hpp"
#include "hangar/process.hpp"
#include "hangar/results.hpp"
#include "hangar/stall.hpp"

namespace hangar {

struct RunnerConfig {
    std::filesystem::path python;            // interpreter for python variants
    std::filesystem::path scenario_bin_dir;  // where native scenario binaries are
    std::filesystem::path evidence_root;     // FAMILY/VARIANT/METHOD/run-K go below it
    std::chrono::milliseconds limit{10000};  // per run
    int jobs = 1;
    bool until_hang = false;  // stop a cell at its first hang, keeping that run's evidence
    const Interrupt* interrupt = nullptr;
    bool detect_stalls = true;  // end provable deadlocks early (see stall.hpp)
    StallOptions stall;
    bool capture_evidence = true;  // on every hang, before the tree is killed
    EvidenceOptions evidence;
    std::optional<Recorder> recorder;  // --rr: the probe's result, available or not
    uint64_t max_output = 16 << 20;    // bytes of stdout and of stderr kept per run (--max-output)
    bool isolate = false;              // --isolate: read-only view, no capabilities (pid_namespace.hpp)
    // --hazards: the fork-hazard detector preloaded into every run (libhangar_forkwatch.so),
    // and the Python start-up hook's folder (python/startup) for the holders' Python stacks.
    std::filesystem::path forkwatch;
    std::filesystem::path python_hook;
};

// Told about progress; calls come from worker threads but never two at once.
class RunObserver {
public:
    virtual ~RunObserver() = default;
    virtual void run_started(const Cell&, int /*run*/) {}
    virtual void run_finished(const Cell&, const RunRecord&) {}
    virtual void cell_finished(const CellResult&) {}
};

// The command line of one run of `cell`.
Result<CommandSpec> command_for(const Cell& cell, const RunnerConfig& config, const std::filesystem::path& evidence);

// The evidence folder of run `run` (from 1) of `cell`.
std::filesystem::path evidence_dir(const Cell& cell, int run, const RunnerConfig& config);

// Checks, before anything runs, that every cell can start: interpreter, binaries.
Status check_runnable(const std::vector<Cell>& cells, const RunnerConfig& config);

// Runs every cell; returns the finished cells in order. On an interrupt, runs under way
// are killed and dropped, cells not finished are left out, and the result still holds
// every finished one.
Result<std::vector<CellResult>> run_cells(const std::vector<Cell>& cells, const RunnerConfig& config,
                                          RunObserver& observer);

}  // namespace hangar
