// A history of runs: one line of JSON per `hangar run --history FILE`, each holding every
// cell's summary, so a trend view can show a cell's hang rate across nights.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "hangar/results.hpp"
#include "results_json.hpp"

namespace hangar::reports {

struct HistoryCell {
    std::string key;  // Cell::key()
    int runs = 0;
    int hangs = 0;
    double hang_rate = 0;
    Interval ci;
    bool met = false;
};

struct HistoryEntry {
    std::string started_at;
    std::string command;
    std::vector<HistoryCell> cells;
};

// Appends one line for this run (O_APPEND, one write): earlier lines are never rewritten.
Status append_history(const std::filesystem::path& file, const std::vector<CellResult>& cells,
                      const RunContext& context);

// Every entry, oldest first. A line that does not parse is an error naming its number.
Result<std::vector<HistoryEntry>> read_history(const std::filesystem::path& file);

}  // namespace hangar::reports
