// The results JSON, a contract other tools read: schema "hangar.results/1".
// Fields may be added; the documented ones (reports/README.md) are never renamed.
#pragma once

#include <nlohmann/json.hpp>
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
};

nlohmann::json run_to_json(const RunRecord& run);
// A run's own run.json: its record, and which cell it belongs to.
nlohmann::json run_file_json(const Cell& cell, const RunRecord& run);
nlohmann::json cell_to_json(const CellResult& cell);
nlohmann::json results_to_json(const std::vector<CellResult>& cells, const RunContext& context);

}  // namespace hangar::reports
