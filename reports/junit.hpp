// junit.xml: one testcase per scenario variant x start method x sanitizer, for any CI
// that reads JUnit. A missed expectation is a failure; an undecided cell is a failure of
// type "undecided"; a cell that does not apply is skipped. The output of each testcase
// holds its verdict counts, hang signatures and evidence folders. Valid against
// reports/junit.xsd.
#pragma once

#include <string>
#include <vector>

#include "hangar/results.hpp"
#include "results_json.hpp"

namespace hangar::reports {

std::string render_junit(const std::vector<CellResult>& cells, const RunContext& context);

}  // namespace hangar::reports
