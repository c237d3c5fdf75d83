#include "hangar/watchdog.hpp"

#include <gtest/gtest.h>

#include "pid_watch.hpp"

namespace hangar {
namespace {

using testing::TempDir;

WatchOptions limit(std::chrono::milliseconds ms, const Interrupt* interrupt = nullptr) {
    WatchOptions o;
    o.limit = ms;
    o.interrupt = interrupt;
    return o;
}

ProcessTree start(const TempDir& dir, std::vector<std::string> args) {
    auto tree = ProcessTree::launch(testing::tree_maker(dir, std::move(args)));
    EXPECT_TRUE(tree.ok());
    return std::move(tree).value();
}

TEST(Watchdog, AnEndBeforeTheLimitIsReportedAsItIs) {
    TempDir dir;
    ProcessTree tree = start(dir, {"exit", "4"});
    auto w = watch(tree, limit(std::chrono::seconds(30)));
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(w->ending.kind, Ending::Kind::exited);
    EXPECT_EQ(w->ending.code, 4);
    EXPECT_EQ(classify(w->ending), Verdict::fail);
}

TEST(Watchdog, ABusyLoopPastTheLimitIsATimeoutAndIsKilled) {
    TempDir dir;
    testing::PidReports reports;
    auto tree = ProcessTree::launch(testing::tree_maker(dir, {"spin"}, {reports.env()}));
    ASSERT_TRUE(tree.ok());
    auto pids = reports.read_pidfds(1);
    WatchOptions options = limit(std::chrono::milliseconds(300));
    auto w = watch(*tree, options);
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(w->ending.kind, Ending::Kind::timed_out);
    EXPECT_EQ(classify(w->ending), Verdict::timeout);
    EXPECT_GE(w->elapsed.count(), 300);
    // Left alive for evidence; gone once killed.
    EXPECT_TRUE(tree->alive());
    EXPECT_FALSE(testing::ended_within(pids.at(0), 0));
    tree->kill();
    EXPECT_TRUE(testing::ended_within(pids.at(0), 0));
}

TEST(Watchdog, AnInterruptEndsTheRunWithoutAVerdict) {
    TempDir dir;
    ProcessTree tree = start(dir, {"sleep-forever"});
    Interrupt interrupt;
    interrupt.request(15);
    auto w = watch(tree, limit(std::chrono::seconds(30), &interrupt));
    ASSERT_TRUE(w.ok());
    EXPECT_TRUE(w->interrupted);
    EXPECT_FALSE(tree.alive());
    EXPECT_EQ(interrupt.signal_number(), 15);
}

TEST(Watchdog, ACrashIsACrash) {
    TempDir dir;
    ProcessTree tree = start(dir, {"signal", "6"});
    auto w = watch(tree, limit(std::chrono::seconds(30)));
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(w->ending.kind, Ending::Kind::signaled);
    EXPECT_EQ(classify(w->ending), Verdict::crash);
}

}  // namespace
}  // namespace hangar
