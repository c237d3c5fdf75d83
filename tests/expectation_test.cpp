#include "hangar/expectation.hpp"
#include "hangar/stats.hpp"

#include <gtest/gtest.h>

namespace hangar {
namespace {

std::vector<RunFacts> runs(std::initializer_list<Verdict> verdicts, int starts = 1) {
    std::vector<RunFacts> out;
    for (Verdict v : verdicts) out.push_back({v, starts});
    return out;
}

Expectation parsed(const char* text) {
    auto e = parse_expectation(text);
    EXPECT_TRUE(e.ok()) << text;
    return e.ok() ? *e : Expectation{};
}

TEST(Expectation, ParsesEveryForm) {
    EXPECT_EQ(parsed("pass").kind, Expectation::Kind::pass);
    EXPECT_EQ(parsed(" hang ").kind, Expectation::Kind::hang);
    EXPECT_EQ(parsed("fail").kind, Expectation::Kind::fail);
    EXPECT_EQ(parsed("not-pass").kind, Expectation::Kind::not_pass);
    Expectation rate = parsed("hang-rate >= 0.25");
    EXPECT_EQ(rate.kind, Expectation::Kind::hang_rate);
    EXPECT_DOUBLE_EQ(rate.min_hang_rate, 0.25);
    Expectation starts = parsed("not-pass, starts > 1");
    ASSERT_TRUE(starts.starts);
    EXPECT_EQ(starts.starts->op, Expectation::Starts::Op::gt);
    EXPECT_EQ(starts.starts->count, 1);
    EXPECT_EQ(starts.text, "not-pass, starts > 1");
}

TEST(Expectation, RejectsWhatItDoesNotKnow) {
    for (const char* bad : {"", "hangs", "hang-rate", "hang-rate >= 0", "hang-rate >= 1.5", "hang-rate >= x",
                            "hang-rate >= nan", "hang-rate >= inf", "hang-rate >= -0",
                            "pass, starts", "pass, starts ~ 1", "pass, starts == -1", "pass, runs == 1"})
        EXPECT_FALSE(parse_expectation(bad).ok()) << bad;
}

TEST(Expectation, AnExpectedHangThatDidNotHappenIsAMiss) {
    Judgement j = judge(parsed("hang"), runs({Verdict::timeout, Verdict::pass}));
    EXPECT_EQ(j.outcome, Outcome::missed);
    EXPECT_EQ(j.miss, Miss::no_longer_reproduces);
    EXPECT_NE(j.why.find("1/2"), std::string::npos);
    EXPECT_TRUE(judge(parsed("hang"), runs({Verdict::timeout, Verdict::deadlock})).outcome == Outcome::met);
}

TEST(Expectation, AnExpectedPassThatHungIsARegressionAndAFailureAnotherMiss) {
    EXPECT_EQ(judge(parsed("pass"), runs({Verdict::pass, Verdict::deadlock})).miss, Miss::regression);
    EXPECT_EQ(judge(parsed("pass"), runs({Verdict::pass, Verdict::crash})).miss, Miss::other);
    EXPECT_EQ(judge(parsed("hang"), runs({Verdict::timeout, Verdict::fail})).miss, Miss::other);
    EXPECT_EQ(judge(parsed("pass"), runs({Verdict::pass})).miss, Miss::none);
}

TEST(Expectation, PassMeansEveryRun) {
    EXPECT_TRUE(judge(parsed("pass"), runs({Verdict::pass, Verdict::pass})).outcome == Outcome::met);
    EXPECT_FALSE(judge(parsed("pass"), runs({Verdict::pass, Verdict::crash})).outcome == Outcome::met);
    EXPECT_FALSE(judge(parsed("pass"), {}).outcome == Outcome::met);
}

TEST(Expectation, NotPassAcceptsFailuresAndHangs) {
    EXPECT_TRUE(judge(parsed("not-pass"), runs({Verdict::fail, Verdict::timeout})).outcome == Outcome::met);
    EXPECT_FALSE(judge(parsed("not-pass"), runs({Verdict::fail, Verdict::pass})).outcome == Outcome::met);
}

std::vector<RunFacts> hangs_of(int k, int n) {
    std::vector<RunFacts> out(static_cast<size_t>(n), RunFacts{Verdict::pass, 1});
    for (int i = 0; i < k; ++i) out[static_cast<size_t>(i)].verdict = Verdict::deadlock;
    return out;
}

TEST(Expectation, HangRateIsJudgedOnItsInterval) {
    Expectation e = parsed("hang-rate >= 0.2");
    Judgement met = judge(e, hangs_of(11, 20));  // 95% CI 0.34-0.74: clears 0.2
    EXPECT_EQ(met.outcome, Outcome::met);
    Judgement undecided = judge(e, hangs_of(1, 2));  // 0.5, but CI 0.09-0.91
    EXPECT_EQ(undecided.outcome, Outcome::undecided);
    EXPECT_EQ(undecided.miss, Miss::none);
    EXPECT_NE(undecided.why.find("more runs needed"), std::string::npos);
    Judgement missed = judge(e, hangs_of(0, 30));  // CI 0-0.11: below the floor
    EXPECT_EQ(missed.outcome, Outcome::missed);
    EXPECT_EQ(missed.miss, Miss::no_longer_reproduces);
}

TEST(Stats, WilsonIntervalMatchesKnownValues) {
    Interval i = wilson95(11, 20);
    EXPECT_NEAR(i.low, 0.3421, 1e-3);
    EXPECT_NEAR(i.high, 0.7418, 1e-3);
    EXPECT_DOUBLE_EQ(wilson95(0, 10).low, 0);
    EXPECT_NEAR(wilson95(0, 10).high, 0.2775, 1e-3);
    EXPECT_DOUBLE_EQ(wilson95(10, 10).high, 1);
    EXPECT_DOUBLE_EQ(percentile({5, 1, 3, 2, 4}, 0.5), 3);
    EXPECT_DOUBLE_EQ(percentile({5, 1, 3, 2, 4}, 0.95), 5);
    EXPECT_DOUBLE_EQ(percentile({}, 0.5), 0);
}

TEST(Expectation, StartsAreCheckedOnEveryRun) {
    Expectation e = parsed("pass, starts == 1");
    EXPECT_TRUE(judge(e, runs({Verdict::pass}, 1)).outcome == Outcome::met);
    Judgement j = judge(e, runs({Verdict::pass}, 3));
    EXPECT_EQ(j.outcome, Outcome::missed);
    EXPECT_NE(j.why.find("3 times"), std::string::npos);
    EXPECT_TRUE(judge(parsed("not-pass, starts > 1"), runs({Verdict::timeout}, 5)).outcome == Outcome::met);
    EXPECT_FALSE(judge(parsed("not-pass, starts > 1"), runs({Verdict::timeout}, 1)).outcome == Outcome::met);
}

TEST(Verdict, ClassifiesEndings) {
    EXPECT_EQ(classify({Ending::Kind::exited, 0}), Verdict::pass);
    EXPECT_EQ(classify({Ending::Kind::exited, 1}), Verdict::fail);
    EXPECT_EQ(classify({Ending::Kind::signaled, 9}), Verdict::crash);
    EXPECT_EQ(classify({Ending::Kind::timed_out, 0}), Verdict::timeout);
    EXPECT_EQ(classify({Ending::Kind::deadlocked, 0}), Verdict::deadlock);
    for (Verdict v : kAllVerdicts) EXPECT_EQ(parse_verdict(to_string(v)), v);
    EXPECT_TRUE(is_hang(Verdict::deadlock));
    EXPECT_FALSE(is_hang(Verdict::crash));
}

}  // namespace
}  // namespace hangar
