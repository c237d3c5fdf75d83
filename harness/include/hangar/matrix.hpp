// The cells a run covers: scenario variant x start method x sanitizer. A cell carries
// everything about itself as values (names, how it runs, what it must do), so it outlives
// the catalog it came from and can be rebuilt from a results file alone.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "hangar/manifest.hpp"

namespace hangar {

// How a cell's command is made (see command_for in runner.hpp).
struct Launch {
    Language language = Language::native;
    std::filesystem::path script;      // python: the scenario script
    std::string binary;                // native: file name in the scenario bin folder ("-tsan" etc. included)
    std::vector<std::string> args;     // placed before `--method M`
    std::vector<std::string> command;  // when set, run as it is, without `--method` (hangar exec)
    std::vector<std::string> env;      // NAME=value added to the run's environment (HANGAR_START_METHOD)
    // A Python program run unmodified: hangar's start-up hook goes in (python/startup), to
    // set the start method and to trace what re-runs in children (hangar exec --method).
    bool python_hook = false;
};

struct Cell {
    std::string family;
    std::string variant;
    Method method = Method::fork;
    Sanitizer sanitizer = Sanitizer::none;
    Expectation expect;          // the manifest's, for this method and sanitizer
    std::string sanitizer_note;  // the manifest's why, where the sanitizer changes the cell
    // Why the cell is listed but never run; empty when it runs.
    std::string not_applicable_reason;
    Launch launch;
    int repeat = 1;
    int order = 0;  // position in the matrix: reports list cells in this order

    bool applicable() const { return not_applicable_reason.empty(); }
    Language language() const { return launch.language; }

    // The names a cell goes by, each made here only:
    std::string scenario_id() const;  // family/variant: a table row
    std::string column() const;       // fork, or fork/tsan: a table column
    std::string key() const;          // family/variant:fork[:tsan]: history, merges, results.json
    std::string label() const;        // family/variant fork[/tsan]: progress lines, headings
    std::filesystem::path folder() const;  // family/variant/fork[-tsan]: under a session folder
};

// One cell of `variant` in `family`.
Cell make_cell(const Family& family, const Variant& variant, Method method, Sanitizer sanitizer, int repeat);

struct MatrixRequest {
    std::vector<std::string> selectors;  // FAMILY or FAMILY/VARIANT; empty: everything
    std::vector<Method> methods;         // empty: each variant's own
    std::vector<Sanitizer> sanitizers;   // empty: none only
    std::optional<int> repeat;           // overrides the manifests' repeat
    std::optional<int> stochastic_repeat;  // overrides it again for cells judged on a hang rate
    std::optional<std::pair<int, int>> shard;  // K/N: every N-th cell of the full matrix, from the K-th
};

// The cells asked for, in matrix order (a shard keeps the full matrix's `order`). Unknown
// names are errors that list what exists.
Result<std::vector<Cell>> select_cells(const Catalog& catalog, const MatrixRequest& request);

// "K/N" with 1 <= K <= N.
Result<std::pair<int, int>> parse_shard(const std::string& text);

}  // namespace hangar
