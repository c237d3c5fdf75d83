// The `hangar` subcommands. Each returns the process exit status; only main() exits.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "hangar/layout.hpp"
#include "hangar/result.hpp"

namespace hangar::cli {

// Exit statuses shared by every subcommand.
inline constexpr int kExitOk = 0;       // every cell met its expectation
inline constexpr int kExitMissed = 1;   // some cell missed (hangar exec: the command failed or crashed)
inline constexpr int kExitUsage = 2;    // Error::Kind::input: bad flags, names, manifests, paths
inline constexpr int kExitHang = 3;     // hangar exec: the command hung
inline constexpr int kExitHarness = 4;  // Error::Kind::io or internal: hangar could not finish its
                                        // job (a report could not be written...); finished results kept
// 128 + N: interrupted by signal N (SIGINT 130, SIGTERM 143); finished results kept.

// The exit status for an error of this kind.
int exit_for(const Error& e);

struct GlobalOptions {
    std::filesystem::path scenarios_dir;     // default: the layout's built-in scenarios
    std::filesystem::path scenario_bin_dir;  // default: the layout's scenario programs
    std::string python;  // empty: choose one (see resolve_python)
    // Where hangar's own files are (layout.hpp); when they cannot be found, why, said by
    // whichever command needs them.
    std::optional<Layout> layout;
    Error layout_error;
};

// Where hangar's own run-time files are (from the layout): the Python side (startup/, the
// hook; hangar_check.py) and, checked to exist, the fork-hazard detector for --hazards.
Result<std::filesystem::path> python_dir(const GlobalOptions& global);
Result<std::filesystem::path> python_hook_dir(const GlobalOptions& global);
Result<std::filesystem::path> hazard_detector(const GlobalOptions& global);

// The scenarios folder is known: given with --scenarios, or the layout's.
Status check_scenarios_known(const GlobalOptions& global);

// One line on stderr, prefixed "hangar: ".
void complain(const std::string& message);
// complain(), then the exit status for the error's kind.
int fail_with(const Error& e);

// Checks for numbers from the command line: finite, in range, said back short.
CLI::Validator seconds_check();  // 0.001 to 604800 (a week)
CLI::Validator size_check();     // bytes, with an optional K, M or G: 1K to 64G

// A size that size_check() accepted, in bytes.
uint64_t parse_size(const std::string& text);

// --python, else $HANGAR_PYTHON, else /usr/bin/python3, else python3 on PATH; resolved
// to an absolute path once, since a pyenv shim costs ~80 ms per launch.
std::string resolve_python(const GlobalOptions& global);

struct ListOptions {
    bool where = false;      // say where scenarios, programs and hangar's own files were found
    std::string ctest_file;  // write CTest registrations here instead of listing
    double ctest_timeout = 6;
    std::vector<std::string> ctest_methods;     // only these methods (default: each variant's own)
    std::vector<std::string> ctest_sanitizers;  // only these builds (default: none, tsan, asan)
    std::vector<std::string> ctest_labels;      // added to every test's labels
    std::string ctest_out;  // reports go under here (default: ctest-out beside the file)
};
void add_list_command(CLI::App& app, ListOptions& options);
int run_list(const GlobalOptions& global, const ListOptions& options);

struct RunOptions {
    std::vector<std::string> scenarios;
    std::vector<std::string> methods;
    std::vector<std::string> sanitizers;
    double timeout = 10;
    std::string max_output = "16M";  // bytes of stdout and of stderr kept per run
    int repeat = 0;  // 0: each manifest's own
    int stochastic_repeat = 0;  // runs per cell for hang-rate expectations (0: as --repeat)
    int jobs = 0;  // 0: the number of cores
    bool until_hang = false;
    bool rr = false;
    bool rr_chaos = false;
    bool no_stall_detection = false;
    bool no_evidence = false;
    bool isolate = false;
    bool hazards = false;
    std::string out = "hangar-out";
    std::string json;
    std::string history;  // append this run's cell summaries here; trend view in report.html
    std::string shard;    // "K/N": every N-th cell of the matrix, from the K-th
    std::string run_id;   // shared by the shards of one matrix; default: a new one
    bool quiet = false;
};
void add_run_command(CLI::App& app, RunOptions& options);
int run_run(const GlobalOptions& global, const RunOptions& options, const std::string& command_line);

struct ReportOptions {
    std::vector<std::string> inputs;
    std::string out;
    std::string history;         // read for the trend view
    bool append_history = false;  // first append the merged cells to it (a nightly merge)
    bool allow_partial = false;   // merge the shards given even when some are missing
};
void add_report_command(CLI::App& app, ReportOptions& options);
int run_report(const ReportOptions& options, const std::string& command_line);

struct ExecOptions {
    std::vector<std::string> command;
    std::vector<std::string> methods;  // run once per start method (HANGAR_START_METHOD)
    std::vector<std::string> expect;   // METHOD=EXPECTATION, per method cell
    int repeat = 1;
    int jobs = 0;  // 0: the number of cores
    bool until_hang = false;
    bool quiet = false;
    double timeout = 60;
    std::string max_output = "16M";
    bool isolate = false;
    bool hazards = false;
    std::string out = "hangar-out";
    std::string json;
};
void add_exec_command(CLI::App& app, ExecOptions& options);
int run_exec(const GlobalOptions& global, const ExecOptions& options, const std::string& command_line);

struct CheckOptions {
    std::string script;
    bool run = false;
    std::string json;
    double timeout = 30;
    std::string out = "hangar-out";
};
void add_check_command(CLI::App& app, CheckOptions& options);
int run_check(const GlobalOptions& global, const CheckOptions& options, const std::string& command_line);

}  // namespace hangar::cli
