// The results JSON, a contract other tools read: schema "hangar.results/1".
// Fields may be added; the documented ones (reports/README.md) are never renamed.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "hangar/results.hpp"

namespace hangar::reports {

inline constexpr const char* kResultsSchema = "hangar.results/1";

struct RunContext {
    std::string started_at;   // ISO 8601, UTC
    std::string command;      // the hangar command line
    nlohmann::json environment = nlohmann::json::object();
    bool complete = true;     // false while running, or when interrupted
    // Which harness run this is (--run-id, else made up per run): the shards of one matrix
    // share it, two different runs never do.
    std::string run_id;
    std::optional<std::pair<int, int>> shard;  // K/N, for `hangar run --shard K/N`
};

// A run id nobody else has: time, pid and random bits.
std::string new_run_id();

nlohmann::json run_to_json(const RunRecord& run);
// A run's own run.json: its record, and which cell it belongs to.
nlohmann::json run_file_json(const Cell& cell, const RunRecord& run);
nlohmann::json cell_to_json(const CellResult& cell);
nlohmann::json results_to_json(const std::vector<CellResult>& cells, const RunContext& context);

// JSON as text, never throwing: a string that is not UTF-8 (a path, a program's argument)
// gets U+FFFD for its bad bytes. `indent` -1: one line.
std::string json_text(const nlohmann::json& j, int indent = 2);

}  // namespace hangar::reports
