// Results JSON read back, so reports can be re-rendered and shards merged without the
// manifests that produced them.
#pragma once

#include <filesystem>
#include <vector>

#include "hangar/results.hpp"
#include "results_json.hpp"

namespace hangar::reports {

struct LoadedResults {
    std::vector<CellResult> cells;  // judged again from their runs
    RunContext context;
};

// "FILE: what is wrong" for a file that is not schema hangar.results/1.
Result<LoadedResults> read_results(const std::filesystem::path& file);

// One set from several: cells with the same key pool their runs and are judged again;
// cells keep the matrix order they were run in. Shards of one matrix (`hangar run --shard
// K/N`) merge into what one full run gives.
LoadedResults merge_results(std::vector<LoadedResults> parts);

}  // namespace hangar::reports
