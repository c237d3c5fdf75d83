// Every report of a run, written together: results.json, junit.xml, summary.md and
// report.html, each atomically.
#pragma once

#include <filesystem>
#include <vector>

#include "hangar/results.hpp"
#include "history.hpp"
#include "results_json.hpp"

namespace hangar::reports {

Status write_reports(const std::filesystem::path& dir, const std::vector<CellResult>& cells, const RunContext& context,
                     const std::vector<HistoryEntry>& history);

}  // namespace hangar::reports
