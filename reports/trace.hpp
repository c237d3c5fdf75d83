// What the Python start-up hook saw in a cell's runs, said in sentences: which start method
// children were really started with, and what of the main script they re-ran.
#pragma once

#include <string>
#include <vector>

#include "hangar/results.hpp"

namespace hangar::reports {

// "under spawn, lines 12-31 of flow.py ran again in 4 children: line 14 `pool = Pool(4)`";
// "" when the hook saw no child re-run the script.
std::string reimport_sentence(const CellResult& cell);

// Children by the start method really used, over the cell's runs: "4 spawn, 1 loky".
std::string child_starts_text(const CellResult& cell);

// When the cell asked for a start method and children were started with another one: "asked
// fork, but 4 children were started with spawn". "" otherwise.
std::string method_mismatch(const CellResult& cell);

}  // namespace hangar::reports
