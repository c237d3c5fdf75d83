#include "hangar/expectation.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "hangar/stats.hpp"

namespace hangar {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool consume(std::string_view& s, std::string_view prefix) {
    s = trim(s);
    if (s.substr(0, prefix.size()) != prefix) return false;
    s.remove_prefix(prefix.size());
    return true;
}

template <class Number>
bool parse_number(std::string_view s, Number& out) {
    s = trim(s);
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
}

const char* kGrammar =
    "expected pass, fail, hang, not-pass, any or 'hang-rate >= X', optionally followed by "
    "', starts == N' or ', starts > N', and by ', hazard', ', no hazard' or ', hazard-rate >= X'";

}  // namespace

Result<Expectation> parse_expectation(std::string_view text) {
    Expectation e;
    e.text = std::string(trim(text));
    std::string_view outcome = text, clauses;
    if (auto comma = text.find(','); comma != std::string_view::npos) {
        outcome = text.substr(0, comma);
        clauses = text.substr(comma + 1);
    }
    outcome = trim(outcome);
    if (outcome == "pass") e.kind = Expectation::Kind::pass;
    else if (outcome == "fail") e.kind = Expectation::Kind::fail;
    else if (outcome == "hang") e.kind = Expectation::Kind::hang;
    else if (outcome == "not-pass") e.kind = Expectation::Kind::not_pass;
    else if (outcome == "any") e.kind = Expectation::Kind::any;
    else if (consume(outcome, "hang-rate") && consume(outcome, ">=")) {
        e.kind = Expectation::Kind::hang_rate;
        if (!parse_number(outcome, e.min_hang_rate) || !(e.min_hang_rate > 0 && e.min_hang_rate <= 1))
            return error("'" + e.text + "': hang-rate needs a number in (0, 1]");
    } else {
        return error("'" + e.text + "': " + kGrammar);
    }
    while (!clauses.empty()) {
        std::string_view clause = clauses;
        clauses = {};
        if (auto comma = clause.find(','); comma != std::string_view::npos) {
            clauses = clause.substr(comma + 1);
            clause = clause.substr(0, comma);
        }
        clause = trim(clause);
        if (clause == "hazard" || clause == "no hazard" || clause.substr(0, 11) == "hazard-rate") {
            if (e.hazard) return error("'" + e.text + "': one hazard clause at most");
            e.hazard = clause != "no hazard";
            if (consume(clause, "hazard-rate")) {
                if (!consume(clause, ">=") || !parse_number(clause, e.min_hazard_rate) ||
                    !(e.min_hazard_rate > 0 && e.min_hazard_rate <= 1))
                    return error("'" + e.text + "': hazard-rate needs '>= X' with X in (0, 1]");
            }
            continue;
        }
        Expectation::Starts s{};
        if (e.starts || !consume(clause, "starts")) return error("'" + e.text + "': " + kGrammar);
        if (consume(clause, "==")) s.op = Expectation::Starts::Op::eq;
        else if (consume(clause, ">")) s.op = Expectation::Starts::Op::gt;
        else return error("'" + e.text + "': " + kGrammar);
        if (!parse_number(clause, s.count) || s.count < 0)
            return error("'" + e.text + "': starts needs a whole number");
        e.starts = s;
    }
    return e;
}

namespace {

// What a miss means for someone watching a matrix over time.
Miss classify_miss(const Expectation& expect, const std::vector<RunFacts>& runs, int hangs) {
    if (expect.kind == Expectation::Kind::pass && hangs > 0) return Miss::regression;
    if (expect.expects_hang() && hangs < static_cast<int>(runs.size())) {
        // Fewer hangs, and what ran instead passed: the hang no longer reproduces.
        bool others_passed = true;
        for (const auto& r : runs) others_passed &= is_hang(r.verdict) || r.verdict == Verdict::pass;
        if (others_passed) return Miss::no_longer_reproduces;
    }
    return Miss::other;
}

}  // namespace

Judgement judge(const Expectation& expect, const std::vector<RunFacts>& runs) {
    if (runs.empty()) return {Outcome::missed, Miss::other, "no runs"};
    int passes = 0, fails = 0, hangs = 0;
    for (const auto& r : runs) {
        passes += r.verdict == Verdict::pass;
        fails += r.verdict == Verdict::fail;
        hangs += is_hang(r.verdict);
    }
    const int n = static_cast<int>(runs.size());
    char buf[160];
    auto seen = [&](const char* what, int k) {
        std::snprintf(buf, sizeof buf, "expected %s, saw %d/%d", what, k, n);
        return std::string(buf);
    };
    auto missed = [&](std::string why) { return Judgement{Outcome::missed, classify_miss(expect, runs, hangs), why}; };
    switch (expect.kind) {
        case Expectation::Kind::pass:
            if (passes != n) return missed(seen("every run to pass", passes));
            break;
        case Expectation::Kind::fail:
            if (fails != n) return missed(seen("every run to fail", fails));
            break;
        case Expectation::Kind::hang:
            if (hangs != n) return missed(seen("every run to hang", hangs));
            break;
        case Expectation::Kind::not_pass:
            if (passes != 0) return missed(seen("no run to pass", passes));
            break;
        case Expectation::Kind::any:
            break;
        case Expectation::Kind::hang_rate: {
            Interval ci = wilson95(hangs, n);
            std::snprintf(buf, sizeof buf, "expected hang rate >= %.2f, saw %d/%d (95%% CI %.2f-%.2f)",
                          expect.min_hang_rate, hangs, n, ci.low, ci.high);
            if (ci.high < expect.min_hang_rate) return missed(buf);
            if (ci.low < expect.min_hang_rate) return {Outcome::undecided, Miss::none, std::string(buf) + ": more runs needed"};
            break;
        }
    }
    if (expect.starts) {
        for (const auto& r : runs) {
            bool ok = expect.starts->op == Expectation::Starts::Op::eq ? r.workflow_starts == expect.starts->count
                                                                        : r.workflow_starts > expect.starts->count;
            if (!ok) {
                std::snprintf(buf, sizeof buf, "expected starts %s %d, a run started %d times",
                              expect.starts->op == Expectation::Starts::Op::eq ? "==" : ">", expect.starts->count,
                              r.workflow_starts);
                return missed(buf);
            }
        }
    }
    // A fork hazard is judged only where the detector ran in every run (--hazards): else
    // the clause says nothing either way.
    const bool checked = std::all_of(runs.begin(), runs.end(), [](const RunFacts& r) { return r.hazard.has_value(); });
    if (expect.hazard && checked) {
        int with = 0;
        for (const auto& r : runs) with += *r.hazard;
        if (expect.min_hazard_rate > 0) {
            Interval ci = wilson95(with, n);
            std::snprintf(buf, sizeof buf, "expected hazard rate >= %.2f, saw %d/%d (95%% CI %.2f-%.2f)",
                          expect.min_hazard_rate, with, n, ci.low, ci.high);
            if (ci.high < expect.min_hazard_rate) return missed(buf);
            if (ci.low < expect.min_hazard_rate) return {Outcome::undecided, Miss::none, std::string(buf) + ": more runs needed"};
        } else if (*expect.hazard && with != n) {
            return missed(seen("a fork hazard in every run", with));
        } else if (!*expect.hazard && with != 0) {
            return missed(seen("no fork hazard", with));
        }
    }
    return {Outcome::met, Miss::none, ""};
}

}  // namespace hangar
