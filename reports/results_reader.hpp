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
    std::filesystem::path file;     // where it was read from
};

// "FILE: what is wrong" for a file that is not schema hangar.results/1, or that names a
// verdict, method or sanitizer hangar does not know (with the cell).
Result<LoadedResults> read_results(const std::filesystem::path& file);

// Whether `parts` may be merged: no file twice; shards only with the shards of the same
// run (same run id, same N, each K once) and, unless `allow_partial`, all N of them.
// Results that are not shards pool as repeated runs of the same cells.
Status check_mergeable(const std::vector<LoadedResults>& parts, bool allow_partial);

// One set from several: cells with the same key pool their runs and are judged again;
// cells keep the matrix order they were run in. Shards of one matrix (`hangar run --shard
// K/N`) merge into what one full run gives.
LoadedResults merge_results(std::vector<LoadedResults> parts);

}  // namespace hangar::reports
