#include "results_json.hpp"

#include <map>

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
    j["started_s"] = run.started_s;
    if (!run.rr_note.empty()) {
        j["rr"] = {{"note", run.rr_note}};
        if (!run.rr_trace.empty()) j["rr"]["trace"] = run.rr_trace;
    }
    if (!run.findings.empty()) {
        nlohmann::json findings = nlohmann::json::array();
        for (const auto& f : run.findings)
            findings.push_back({{"tool", f.tool}, {"kind", f.kind}, {"summary", f.summary}, {"frames", f.frames}});
        j["sanitizer_findings"] = findings;
    }
    return j;
}

nlohmann::json cell_to_json(const CellResult& cell) {
    nlohmann::json counts = nlohmann::json::object();
    for (auto [verdict, n] : cell.counts()) counts[std::string(to_string(verdict))] = n;
    nlohmann::json runs = nlohmann::json::array();
    for (const auto& r : cell.runs) runs.push_back(run_to_json(r));
    const Variant& v = *cell.cell.variant;
    const Interval ci = cell.hang_rate_ci95();
    const auto ttv = cell.times_to_verdict_ms();
    nlohmann::json timing = nullptr;
    if (!ttv.empty()) timing = {{"p50", percentile(ttv, 0.5)}, {"p95", percentile(ttv, 0.95)}, {"max", percentile(ttv, 1)}};
    const double wall = cell.wall_seconds();
    return {
        {"scenario", cell.cell.family->name},
        {"variant", v.name},
        {"language", v.language == Language::python ? "python" : "native"},
        {"method", to_string(cell.cell.method)},
        {"order", cell.cell.order},
        {"sanitizer", cell.cell.sanitizer},
        {"expect", cell.cell.expect().text},
        {"counts", counts},
        {"hangs", cell.hangs()},
        {"signatures", cell.signatures()},
        {"applicable", cell.cell.applicable()},
        {"not_applicable_reason", cell.cell.not_applicable_reason()},
        {"sanitizer_note", v.sanitizer_note(cell.cell.sanitizer)},
        {"sanitizer_findings", cell.finding_counts()},
        {"met", cell.judgement.met},
        {"undecided", cell.judgement.undecided},
        {"miss", cell.judgement.met ? "" : std::string(to_string(classify_miss(cell)))},
        {"why", cell.judgement.why},
        {"hang_rate", cell.hang_rate()},
        {"hang_rate_ci95", {ci.low, ci.high}},
        {"time_to_verdict_ms", timing},
        {"wall_seconds", wall},
        {"runs_per_second", wall > 0 ? static_cast<double>(cell.runs.size()) / wall : 0.0},
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
    int met = 0, undecided = 0, not_applicable = 0;
    std::map<Miss, int> misses;
    for (const auto& c : cells) {
        met += c.judgement.met;
        undecided += c.judgement.undecided;
        not_applicable += !c.cell.applicable();
        ++misses[classify_miss(c)];
    }
    out["totals"] = {{"cells", cells.size()},
                     {"met", met},
                     {"missed", static_cast<int>(cells.size()) - met - undecided - not_applicable},
                     {"undecided", undecided},
                     {"not_applicable", not_applicable},
                     {"regressions", misses[Miss::regression]},
                     {"no_longer_reproduces", misses[Miss::no_longer_reproduces]},
                     {"other_misses", misses[Miss::other]}};
    return out;
}

}  // namespace hangar::reports
