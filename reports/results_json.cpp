#include "results_json.hpp"

namespace hangar::reports {

nlohmann::json run_to_json(const RunRecord& run) {
    nlohmann::json j = {
        {"verdict", to_string(run.verdict)},
        {"seconds", run.seconds},
        {"evidence", run.evidence.string()},
        {"workflow_starts", run.workflow_starts},
    };
    if (run.exit_code) j["exit_code"] = *run.exit_code;
    if (run.signal) j["signal"] = *run.signal;
    if (run.time_to_verdict_ms) j["time_to_verdict_ms"] = *run.time_to_verdict_ms;
    if (is_hang(run.verdict)) j["signature"] = run.signature;
    return j;
}

nlohmann::json cell_to_json(const CellResult& cell) {
    nlohmann::json counts = nlohmann::json::object();
    for (auto [verdict, n] : cell.counts()) counts[std::string(to_string(verdict))] = n;
    nlohmann::json runs = nlohmann::json::array();
    for (const auto& r : cell.runs) runs.push_back(run_to_json(r));
    const Variant& v = *cell.cell.variant;
    return {
        {"scenario", cell.cell.family->name},
        {"variant", v.name},
        {"language", v.language == Language::python ? "python" : "native"},
        {"method", to_string(cell.cell.method)},
        {"sanitizer", cell.cell.sanitizer},
        {"expect", cell.cell.expect().text},
        {"counts", counts},
        {"hangs", cell.hangs()},
        {"signatures", cell.signatures()},
        {"met", cell.judgement.met},
        {"why", cell.judgement.why},
        {"runs", runs},
    };
}

nlohmann::json results_to_json(const std::vector<CellResult>& cells, const RunContext& context) {
    nlohmann::json out = {
        {"schema", kResultsSchema},
        {"started_at", context.started_at},
        {"command", context.command},
        {"complete", context.complete},
        {"environment", context.environment},
    };
    out["cells"] = nlohmann::json::array();
    for (const auto& c : cells) out["cells"].push_back(cell_to_json(c));
    int met = 0;
    for (const auto& c : cells) met += c.judgement.met;
    out["totals"] = {{"cells", cells.size()}, {"met", met}, {"missed", static_cast<int>(cells.size()) - met}};
    return out;
}

}  // namespace hangar::reports
