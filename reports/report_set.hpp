// The reports rendered from a finished set of cells, written together: junit.xml,
// summary.md and report.html, each atomically. results.json has its own writer
// (results_file.hpp), which keeps it current while the cells run.
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
