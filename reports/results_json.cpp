#include "results_json.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <random>

namespace hangar::reports {

namespace {

nlohmann::json held_to_json(const HeldAtFork& h) {
    nlohmann::json j = {{"kind", h.kind}, {"holder_tid", h.holder_tid}, {"holder", h.holder},
                        {"signature", h.signature}, {"child_waited", h.child_waited}};
    if (!h.addr.empty()) j["addr"] = h.addr;
    if (!h.call.empty()) j["call"] = h.call;
    if (!h.lock.empty()) j["lock"] = h.lock;
    if (!h.acquired_at.empty()) j["acquired_at"] = h.acquired_at;
    if (!h.native.empty()) j["stack"] = h.native;
    if (!h.stack_note.empty()) j["stack_note"] = h.stack_note;
    if (!h.python.empty()) j["python"] = h.python;
    return j;
}

nlohmann::json hazards_to_json(const RunRecord::Hazards& h) {
    nlohmann::json shown = nlohmann::json::array();
    for (const auto& f : h.shown) {
        nlohmann::json held = nlohmann::json::array();
        for (const auto& x : f.held) held.push_back(held_to_json(x));
        shown.push_back({{"parent", f.parent}, {"tid", f.tid}, {"thread", f.thread}, {"child", f.child}, {"held", held}});
    }
    nlohmann::json j = {{"checked", h.checked}, {"forks", h.forks}, {"shown", shown}};
    if (!h.note.empty()) j["note"] = h.note;
    return j;
}

}  // namespace

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
    if (run.output_cut)
        j["output_cut"] = {{"stdout_bytes", run.output_cut->stdout_bytes},
                           {"stderr_bytes", run.output_cut->stderr_bytes},
                           {"kept_per_stream", run.output_cut->kept}};
    if (run.hazards) j["fork_hazards"] = hazards_to_json(*run.hazards);
    if (run.python) {
        nlohmann::json lines = nlohmann::json::array();
        for (const auto& l : run.python->reimported)
            lines.push_back({{"file", l.file}, {"line", l.line}, {"source", l.source}, {"processes", l.processes},
                             {"action", l.action}});
        j["python"] = {{"processes", run.python->processes},
                       {"main_runs", run.python->main_runs},
                       {"child_starts", run.python->child_starts},
                       {"reimporting_children", run.python->reimporting_children},
                       {"reimported", lines}};
    }
    if (!run.findings.empty()) {
        nlohmann::json findings = nlohmann::json::array();
        for (const auto& f : run.findings)
            findings.push_back({{"tool", f.tool}, {"kind", f.kind}, {"summary", f.summary}, {"frames", f.frames}});
        j["sanitizer_findings"] = findings;
    }
    return j;
}

nlohmann::json run_file_json(const Cell& cell, const RunRecord& run) {
    nlohmann::json j = run_to_json(run);
    j["scenario"] = cell.family;
    j["variant"] = cell.variant;
    j["method"] = to_string(cell.method);
    j["sanitizer"] = to_string(cell.sanitizer);
    j["key"] = cell.key();
    return j;
}

nlohmann::json cell_to_json(const CellResult& cell) {
    nlohmann::json counts = nlohmann::json::object();
    for (auto [verdict, n] : cell.counts()) counts[std::string(to_string(verdict))] = n;
    nlohmann::json runs = nlohmann::json::array();
    for (const auto& r : cell.runs) runs.push_back(run_to_json(r));
    const Cell& c = cell.cell;
    const Interval ci = cell.hang_rate_ci95();
    const auto ttv = cell.times_to_verdict_ms();
    nlohmann::json timing = nullptr;
    if (!ttv.empty()) timing = {{"p50", percentile(ttv, 0.5)}, {"p95", percentile(ttv, 0.95)}, {"max", percentile(ttv, 1)}};
    const double wall = cell.wall_seconds();
    nlohmann::json hazards = nullptr;  // without --hazards
    if (std::any_of(cell.runs.begin(), cell.runs.end(), [](const RunRecord& r) { return r.hazards.has_value(); })) {
        const Interval hci = cell.hazard_rate_ci95();
        hazards = {{"checked", cell.hazards_checked()},
                   {"runs", cell.hazard_runs()},
                   {"rate", cell.hazard_rate()},
                   {"rate_ci95", {hci.low, hci.high}},
                   {"signatures", cell.hazard_signatures()}};
    }
    return {
        {"key", c.key()},
        {"scenario", c.family},
        {"variant", c.variant},
        {"language", to_string(c.language())},
        {"method", to_string(c.method)},
        {"order", c.order},
        {"sanitizer", to_string(c.sanitizer)},
        {"expect", c.expect.text},
        {"counts", counts},
        {"hangs", cell.hangs()},
        {"signatures", cell.signatures()},
        {"applicable", c.applicable()},
        {"not_applicable_reason", c.not_applicable_reason},
        {"sanitizer_note", c.sanitizer_note},
        {"sanitizer_findings", cell.finding_counts()},
        {"hazards", hazards},
        {"outcome", to_string(cell.outcome())},
        {"met", cell.outcome() == Outcome::met},
        {"undecided", cell.outcome() == Outcome::undecided},
        {"miss", to_string(cell.judgement.miss)},
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
        {"run_id", context.run_id},
        {"started_at", context.started_at},
        {"command", context.command},
        {"complete", context.complete},
        {"environment", context.environment},
    };
    out["shard"] = context.shard ? nlohmann::json{{"k", context.shard->first}, {"n", context.shard->second}}
                                 : nlohmann::json(nullptr);
    out["cells"] = nlohmann::json::array();
    for (const auto& c : cells) out["cells"].push_back(cell_to_json(c));
    const Totals t = tally(cells);
    out["totals"] = {{"cells", t.cells},
                     {"met", t.met},
                     {"missed", t.missed},
                     {"undecided", t.undecided},
                     {"not_applicable", t.not_applicable},
                     {"regressions", t.regressions},
                     {"no_longer_reproduces", t.no_longer_reproduces},
                     {"other_misses", t.other_misses}};
    return out;
}

std::string new_run_id() {
    std::random_device random;
    char id[64];
    std::snprintf(id, sizeof id, "%lld-%d-%08x", static_cast<long long>(std::time(nullptr)), static_cast<int>(getpid()),
                  random());
    return id;
}

std::string json_text(const nlohmann::json& j, int indent) {
    return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace hangar::reports
