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

// One HTML5 document, `<!DOCTYPE html>` to `</html>`: inline CSS and SVG, no script, nothing
// fetched. Every string from the data is escaped. Cells are listed in matrix order
// (Cell::order). `report_dir` is where report.html will live: evidence links are made
// relative to it (absolute where they cannot be). `history` is oldest first, as
// read_history gives it; it is drawn as given (include this run in it to see it there),
// and an empty history leaves the trend view out.
std::string render_html(const std::vector<CellResult>& cells, const RunContext& context,
                        const std::filesystem::path& report_dir, const std::vector<HistoryEntry>& history);

}  // namespace hangar::reports
