// What `hangar run` and `hangar exec` share: the session folder and the environment record.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "hangar/runner.hpp"
#include "results_file.hpp"
#include "results_json.hpp"

namespace hangar::cli {

std::string utc_now(const char* strftime_format);

// Kernel, glibc, compiler, CPUs, the sanitizers asked for, and the interpreter hangar runs
// Python scenarios with (path and version; "" when no Python cell runs).
nlohmann::json environment(const std::string& python, const std::vector<Sanitizer>& sanitizers = {});

// The --json file must be writable before anything runs, without creating it yet.
Status check_json_target(const std::string& json);

// One harness run's output: OUT/<stamp>/ (OUT/latest points at it), so a later run never
// overwrites the evidence of an earlier one, and every file results.json is kept at.
struct Session {
    std::filesystem::path dir;                   // absolute
    std::vector<std::filesystem::path> results;  // dir/results.json, and the --json file if given
};

// What `run` and `exec` do before anything runs: check every cell can start and the
// --json file can be written, then make the session folder. Nothing is written when a
// check fails.
Result<Session> open_session(const std::vector<Cell>& cells, const RunnerConfig& config, const std::string& out,
                             const std::string& json);

// After the cells: appends them to the history file (if `append`), reads it for the trend
// view (if given), then writes junit.xml, summary.md and report.html beside results.json.
Status finish_reports(const Session& session, const reports::ResultsFile& results, const std::string& history,
                      bool append);

// What `run` and `exec --method` do with their matrix: run it with progress lines (unless
// `quiet`), keep results.json current, then write every report and print the table.
struct MatrixRun {
    std::vector<CellResult> results;
    Status written;  // every report written
};
Result<MatrixRun> run_matrix(const std::vector<Cell>& cells, const RunnerConfig& config, const Session& session,
                             reports::RunContext context, bool quiet, const std::string& history);

}  // namespace hangar::cli
