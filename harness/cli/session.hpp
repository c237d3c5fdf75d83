// What `hangar run` and `hangar exec` share: the session folder, the results writer and
// the environment record.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "hangar/runner.hpp"
#include "results_json.hpp"

namespace hangar::cli {

std::string utc_now(const char* strftime_format);

// Kernel, glibc, compiler, CPUs, the sanitizers asked for, and the interpreter hangar runs
// Python scenarios with (path and version).
nlohmann::json environment(const std::string& python, const std::vector<std::string>& sanitizers = {});

// Keeps results.json (and --json) current: rewritten whole, atomically, after every
// finished cell; each run's own run.json is written as soon as the run ends.
class ResultsWriter : public RunObserver {
public:
    ResultsWriter(std::vector<std::filesystem::path> targets, reports::RunContext context);
    void run_finished(const Cell& cell, const RunRecord& record) override;
    void cell_finished(const CellResult& cell) override;
    void write(bool complete);
    bool failed() const { return failed_; }

private:
    void note(const Status& s);

    std::vector<std::filesystem::path> targets_;
    reports::RunContext context_;
    std::vector<CellResult> cells_;
    bool failed_ = false;
};

// The --json file must be writable before anything runs, without creating it yet.
Status check_json_target(const std::string& json);

// OUT/<stamp>/ for this run, and OUT/latest pointing at it, so a later run never
// overwrites the evidence of an earlier one.
Result<std::filesystem::path> make_session_dir(const std::filesystem::path& out);

// What `run` and `exec` do before anything runs: check every cell can start and the
// --json file can be written, then make the session folder and point `config` at it.
// Nothing is written when a check fails.
Result<std::filesystem::path> open_session(const std::vector<Cell>& cells, RunnerConfig& config,
                                           const std::string& out, const std::string& json);

// Where results.json goes: the session folder, and the --json file if one was given.
std::vector<std::filesystem::path> results_targets(const std::filesystem::path& session, const std::string& json);

// "K/N" with 1 <= K <= N.
Result<std::pair<int, int>> parse_shard(const std::string& text);

// After a run: appends to the history (if any), then writes every report into `dir`.
Status finish_reports(const std::filesystem::path& dir, const std::vector<CellResult>& cells,
                      const reports::RunContext& context, const std::string& history);

}  // namespace hangar::cli
