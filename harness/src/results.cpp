#include "hangar/results.hpp"

#include <algorithm>

namespace hangar {

std::map<Verdict, int> CellResult::counts() const {
    std::map<Verdict, int> c;
    for (const auto& r : runs) ++c[r.verdict];
    return c;
}

int CellResult::hangs() const {
    int n = 0;
    for (const auto& r : runs) n += is_hang(r.verdict);
    return n;
}

std::map<std::string, int> CellResult::signatures() const {
    std::map<std::string, int> s;
    for (const auto& r : runs)
        if (is_hang(r.verdict)) ++s[r.signature];
    return s;
}

std::map<std::string, int> CellResult::finding_counts() const {
    std::map<std::string, int> f;
    for (const auto& r : runs)
        for (const auto& finding : r.findings) ++f[finding.tool + ": " + (finding.summary.empty() ? finding.kind : finding.summary)];
    return f;
}

std::string CellResult::summary() const {
    std::string out;
    for (auto [verdict, k] : counts())
        out += (out.empty() ? "" : ", ") + std::string(to_string(verdict)) + " " + std::to_string(k) + "/" +
               std::to_string(runs.size());
    if (!cell.applicable()) return std::string(label(Outcome::not_applicable).shout);
    return out.empty() ? "no runs" : out;
}

double CellResult::hang_rate() const { return runs.empty() ? 0 : static_cast<double>(hangs()) / runs.size(); }

Interval CellResult::hang_rate_ci95() const { return wilson95(hangs(), static_cast<int>(runs.size())); }

bool CellResult::hazards_checked() const {
    return !runs.empty() &&
           std::all_of(runs.begin(), runs.end(), [](const RunRecord& r) { return r.had_hazard().has_value(); });
}

int CellResult::hazard_runs() const {
    int n = 0;
    for (const auto& r : runs) n += r.had_hazard().value_or(false);
    return n;
}

double CellResult::hazard_rate() const {
    return runs.empty() ? 0 : static_cast<double>(hazard_runs()) / static_cast<double>(runs.size());
}

Interval CellResult::hazard_rate_ci95() const { return wilson95(hazard_runs(), static_cast<int>(runs.size())); }

std::map<std::string, int> CellResult::hazard_signatures() const {
    std::map<std::string, int> s;
    for (const auto& r : runs) {
        if (!r.hazards || r.hazards->shown.empty() || r.hazards->shown.front().held.empty()) continue;
        // The run goes by the lock its first hazardous fork's child then waited on, if it did.
        const auto& held = r.hazards->shown.front().held;
        auto waited = std::find_if(held.begin(), held.end(), [](const HeldAtFork& h) { return h.child_waited; });
        ++s[(waited != held.end() ? *waited : held.front()).signature];
    }
    return s;
}

std::vector<double> CellResult::times_to_verdict_ms() const {
    std::vector<double> t;
    for (const auto& r : runs)
        if (r.time_to_verdict_ms) t.push_back(static_cast<double>(*r.time_to_verdict_ms));
    return t;
}

double CellResult::wall_seconds() const {
    if (runs.empty()) return 0;
    double start = runs.front().started_s, end = 0;
    for (const auto& r : runs) {
        start = std::min(start, r.started_s);
        end = std::max(end, r.started_s + r.seconds);
    }
    return end - start;
}

void judge_cell(CellResult& cell) {
    if (!cell.cell.applicable()) {
        cell.judgement = {Outcome::not_applicable, Miss::none, "not applicable: " + cell.cell.not_applicable_reason};
        return;
    }
    std::vector<RunFacts> facts;
    for (const auto& r : cell.runs) facts.push_back({r.verdict, r.workflow_starts, r.had_hazard()});
    cell.judgement = judge(cell.cell.expect, facts);
}

Totals tally(const std::vector<CellResult>& cells) {
    Totals t;
    for (const auto& c : cells) {
        ++t.cells;
        switch (c.outcome()) {
            case Outcome::met: ++t.met; break;
            case Outcome::missed: ++t.missed; break;
            case Outcome::undecided: ++t.undecided; break;
            case Outcome::not_applicable: ++t.not_applicable; break;
        }
        t.regressions += c.judgement.miss == Miss::regression;
        t.no_longer_reproduces += c.judgement.miss == Miss::no_longer_reproduces;
        t.other_misses += c.judgement.miss == Miss::other;
    }
    return t;
}

std::string totals_line(const Totals& t) {
    std::string out = std::to_string(t.met) + " cells met, " + std::to_string(t.missed) + " missed";
    if (t.undecided) out += ", " + std::to_string(t.undecided) + " undecided (more runs needed)";
    if (t.not_applicable) out += ", " + std::to_string(t.not_applicable) + " not applicable";
    return out;
}

}  // namespace hangar
