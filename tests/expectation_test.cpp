#include "hangar/expectation.hpp"

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
    EXPECT_EQ(parsed("pass").outcome, Expectation::Outcome::pass);
    EXPECT_EQ(parsed(" hang ").outcome, Expectation::Outcome::hang);
    EXPECT_EQ(parsed("fail").outcome, Expectation::Outcome::fail);
    EXPECT_EQ(parsed("not-pass").outcome, Expectation::Outcome::not_pass);
    Expectation rate = parsed("hang-rate >= 0.25");
    EXPECT_EQ(rate.outcome, Expectation::Outcome::hang_rate);
    EXPECT_DOUBLE_EQ(rate.min_hang_rate, 0.25);
    Expectation starts = parsed("not-pass, starts > 1");
    ASSERT_TRUE(starts.starts);
    EXPECT_EQ(starts.starts->op, Expectation::Starts::Op::gt);
    EXPECT_EQ(starts.starts->count, 1);
    EXPECT_EQ(starts.text, "not-pass, starts > 1");
}

TEST(Expectation, RejectsWhatItDoesNotKnow) {
    for (const char* bad : {"", "hangs", "hang-rate", "hang-rate >= 0", "hang-rate >= 1.5", "hang-rate >= x",
                            "pass, starts", "pass, starts ~ 1", "pass, starts == -1", "pass, runs == 1"})
        EXPECT_FALSE(parse_expectation(bad).ok()) << bad;
}

TEST(Expectation, AnExpectedHangThatDidNotHappenIsAMiss) {
    Judgement j = judge(parsed("hang"), runs({Verdict::timeout, Verdict::pass}));
    EXPECT_FALSE(j.met);
    EXPECT_NE(j.why.find("1/2"), std::string::npos);
    EXPECT_TRUE(judge(parsed("hang"), runs({Verdict::timeout, Verdict::deadlock})).met);
}

TEST(Expectation, PassMeansEveryRun) {
    EXPECT_TRUE(judge(parsed("pass"), runs({Verdict::pass, Verdict::pass})).met);
    EXPECT_FALSE(judge(parsed("pass"), runs({Verdict::pass, Verdict::crash})).met);
    EXPECT_FALSE(judge(parsed("pass"), {}).met);
}

TEST(Expectation, NotPassAcceptsFailuresAndHangs) {
    EXPECT_TRUE(judge(parsed("not-pass"), runs({Verdict::fail, Verdict::timeout})).met);
    EXPECT_FALSE(judge(parsed("not-pass"), runs({Verdict::fail, Verdict::pass})).met);
}

TEST(Expectation, HangRateIsAFloor) {
    Expectation e = parsed("hang-rate >= 0.5");
    EXPECT_TRUE(judge(e, runs({Verdict::timeout, Verdict::pass})).met);
    EXPECT_FALSE(judge(e, runs({Verdict::timeout, Verdict::pass, Verdict::pass})).met);
}

TEST(Expectation, StartsAreCheckedOnEveryRun) {
    Expectation e = parsed("pass, starts == 1");
    EXPECT_TRUE(judge(e, runs({Verdict::pass}, 1)).met);
    Judgement j = judge(e, runs({Verdict::pass}, 3));
    EXPECT_FALSE(j.met);
    EXPECT_NE(j.why.find("3 times"), std::string::npos);
    EXPECT_TRUE(judge(parsed("not-pass, starts > 1"), runs({Verdict::timeout}, 5)).met);
    EXPECT_FALSE(judge(parsed("not-pass, starts > 1"), runs({Verdict::timeout}, 1)).met);
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
