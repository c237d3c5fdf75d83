// report.html: one self-contained page (no network, no script needed) comparing start
// methods: hang-rate charts with 95% interval bars, time to verdict, signatures,
// sanitizer findings, the environment, links to each hang's evidence, and a trend view
// when a history is given.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "hangar/results.hpp"
#include "history.hpp"
#include "results_json.hpp"

namespace hangar::reports {

// `report_dir` is where report.html will live: evidence links are made relative to it.
std::string render_html(const std::vector<CellResult>& cells, const RunContext& context,
                        const std::filesystem::path& report_dir, const std::vector<HistoryEntry>& history);

}  // namespace hangar::reports
