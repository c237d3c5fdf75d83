// summary.md: the comparison as a Markdown table (scenario variants x start methods, with
// hang rate and interval), fit for a CI job summary, followed by what went wrong, named
// the way a nightly reader needs: regressions (an expected pass hung), hangs that no
// longer reproduce, other misses, undecided cells; then hang signatures.
#pragma once

#include <string>
#include <vector>

#include "hangar/results.hpp"
#include "results_json.hpp"

namespace hangar::reports {

std::string render_markdown(const std::vector<CellResult>& cells, const RunContext& context);

// The command that re-runs one cell on a developer machine.
std::string reproduce_command(const CellResult& cell);

}  // namespace hangar::reports
