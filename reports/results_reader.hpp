// Results JSON read back, so reports can be re-rendered and shards merged without the
// manifests that produced them.
#pragma once

#include <deque>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "hangar/results.hpp"
#include "results_json.hpp"

namespace hangar::reports {

// Cells point at their family and variant; a loaded set owns those, rebuilt from what the
// JSON says (name, language, the cell's expectation and sanitizer note).
struct LoadedResults {
    LoadedResults() = default;
    // Moves keep the deques' elements where they are; a copy would leave the cells
    // pointing into the original. Not copyable, so containers move it even though a
    // deque's move may throw.
    LoadedResults(LoadedResults&&) = default;
    LoadedResults& operator=(LoadedResults&&) = default;
    LoadedResults(const LoadedResults&) = delete;
    LoadedResults& operator=(const LoadedResults&) = delete;

    // deques: cells keep pointers into them, which growing (and moving) leaves valid.
    std::deque<Family> families;
    // Each with the name of its family; not in families[].variants, where nothing here
    // would look them up.
    std::deque<std::pair<std::string, Variant>> variants;
    std::vector<CellResult> cells;
    RunContext context;
};

// "FILE: what is wrong" for a file that is not schema hangar.results/1.
Result<LoadedResults> read_results(const std::filesystem::path& file);

// One set from several: cells with the same key (family/variant:method:sanitizer) pool
// their runs and are judged again; cells keep the matrix order they were run in. Shards
// of one matrix (`hangar run --shard K/N`) merge into what one full run gives.
LoadedResults merge_results(std::vector<LoadedResults> parts);

}  // namespace hangar::reports
