// What a manifest says a cell must do, and whether a cell's runs did it. Like lit's
// XFAIL, an expected hang that did not happen is a miss, not a pass.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hangar/outcome.hpp"
#include "hangar/result.hpp"
#include "hangar/verdict.hpp"

namespace hangar {

struct Expectation {
    // pass / fail / hang: every run; not-pass: no run passes; hang-rate: at least
    // `min_hang_rate` of the runs hang.
    // any: nothing expected, the runs are only watched (hangar exec --method without --expect).
    enum class Kind { pass, fail, hang, not_pass, hang_rate, any };
    struct Starts {  // how often a re-import workflow body may start in one run
        enum class Op { eq, gt } op;
        int count;
    };

    Kind kind = Kind::pass;
    double min_hang_rate = 0;
    std::optional<Starts> starts;
    // ", hazard": every run shows a fork hazard (a lock held by another thread at a fork
    // whose child ran on); ", no hazard": none does; ", hazard-rate >= X": at least X of
    // the runs, judged on the interval like a hang rate. Judged only with --hazards.
    std::optional<bool> hazard;
    double min_hazard_rate = 0;  // > 0 for hazard-rate
    std::string text;  // as written in the manifest

    bool stochastic() const { return kind == Kind::hang_rate; }
    bool expects_hang() const { return kind == Kind::hang || kind == Kind::hang_rate; }
};

// Grammar: OUTCOME [", starts" ("==" | ">") N] [", hazard" | ", no hazard" |
// ", hazard-rate >=" X], where OUTCOME
// is pass | fail | hang | not-pass | any | "hang-rate >=" X with 0 < X <= 1.
Result<Expectation> parse_expectation(std::string_view text);

// `hang-rate >= X` is met when the 95% Wilson interval of the observed rate lies at or
// above X, missed when it lies below, undecided when it straddles X.
// One run, as far as judging needs it.
struct RunFacts {
    Verdict verdict;
    int workflow_starts = 0;
    std::optional<bool> hazard;  // a fork hazard seen; unset when the detector did not run
};

struct Judgement {
    Outcome outcome = Outcome::missed;  // met, missed or undecided; not_applicable is the caller's
    Miss miss = Miss::none;             // for a missed cell, what kind of miss
    std::string why;  // for a miss or an undecided cell: what was expected against what was seen
};

Judgement judge(const Expectation& expect, const std::vector<RunFacts>& runs);

}  // namespace hangar
