// The comparison table printed at the end of `hangar run`: one row per scenario variant,
// one column per start method.
#pragma once

#include <string>
#include <vector>

#include "hangar/results.hpp"

namespace hangar::reports {

// Each cell reads like "deadlock 3/3 met" or "pass 2/3, fail 1/3 MISSED"; stochastic
// cells add their hang rate, its 95% interval and the floor; with --hazards, "hazard 3/3"
// says in how many runs a fork happened while another thread held a lock. A method a variant does not
// run under is "-". Ends with "N cells met, M missed" (", U undecided" when any are).
std::string render_table(const std::vector<CellResult>& cells);

}  // namespace hangar::reports
