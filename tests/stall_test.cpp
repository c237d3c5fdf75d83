// Stall detection must prove real deadlocks early and never call a healthy run one.
#include "hangar/stall.hpp"

#include <gtest/gtest.h>

#include "hangar/watchdog.hpp"
#include "pid_watch.hpp"

namespace hangar {
namespace {

using testing::TempDir;

Watched supervise_command(std::vector<std::string> argv, std::chrono::milliseconds limit) {
    TempDir dir;
    CommandSpec spec;
    spec.argv = std::move(argv);
    spec.environment = current_environment();
    spec.stdout_path = dir.path() / "stdout.txt";
    spec.stderr_path = dir.path() / "stderr.txt";
    auto tree = ProcessTree::launch(spec);
    EXPECT_TRUE(tree.ok());
    StallDetector detector;
    WatchOptions options;
    options.limit = limit;
    options.stall = &detector;
    auto w = watch(*tree, options);
    EXPECT_TRUE(w.ok());
    return *w;
}

Watched supervise(std::vector<std::string> args, std::chrono::milliseconds limit) {
    args.insert(args.begin(), TREE_MAKER);
    return supervise_command(std::move(args), limit);
}

TEST(StallDetection, AChildWedgedOnAnInheritedMutexIsADeadlockLongBeforeTheLimit) {
    Watched w = supervise({"wedge"}, std::chrono::seconds(30));
    EXPECT_EQ(w.ending.kind, Ending::Kind::deadlocked);
    EXPECT_LT(w.elapsed, std::chrono::seconds(10));
    EXPECT_GE(w.time_to_verdict, StallOptions{}.confirm);
}

TEST(StallDetection, AProcessThatSleepsIsNotADeadlock) {
    Watched w = supervise({"nap", "700"}, std::chrono::seconds(30));
    EXPECT_EQ(w.ending.kind, Ending::Kind::exited);
    EXPECT_EQ(w.ending.code, 0);
}

TEST(StallDetection, AParentReadingAPipeFromALateChildIsNotADeadlock) {
    Watched w = supervise({"late-answer", "700"}, std::chrono::seconds(30));
    EXPECT_EQ(w.ending.kind, Ending::Kind::exited);
    EXPECT_EQ(w.ending.code, 0);
}

TEST(StallDetection, AChildOnAProcessSharedLockItsParentReleasesIsNotADeadlock) {
    Watched w = supervise({"shared-lock", "700"}, std::chrono::seconds(30));
    EXPECT_EQ(w.ending.kind, Ending::Kind::exited);
    EXPECT_EQ(w.ending.code, 0);
}

TEST(StallDetection, AChildOnAMultiprocessingLockItsParentReleasesIsNotADeadlock) {
    Watched w = supervise_command({"/usr/bin/python3", SHARED_LOCK_PY, "0.7"}, std::chrono::seconds(30));
    EXPECT_EQ(w.ending.kind, Ending::Kind::exited);
    EXPECT_EQ(w.ending.code, 0);
}

TEST(StallDetection, ABusyLoopIsATimeoutNeverADeadlock) {
    Watched w = supervise({"spin"}, std::chrono::milliseconds(700));
    EXPECT_EQ(w.ending.kind, Ending::Kind::timed_out);
}

TEST(StallDetection, AWedgedChildWhoseParentPollsWithADeadlineIsATimeout) {
    Watched w = supervise({"wedge-polling"}, std::chrono::milliseconds(700));
    EXPECT_EQ(w.ending.kind, Ending::Kind::timed_out);
}

TEST(ClassifyWait, ReadsTheBlockingCall) {
    EXPECT_EQ(classify_wait('S', "202 0x36fa2260 0x189 0x0 0x0 0x0 0xffffffff 0x7ffd 0x7f1\n"),
              Wait::private_futex_untimed);
    EXPECT_EQ(classify_wait('S', "202 0x55aa 0x80 0x2 0x0 0x0 0x0 0x7ffd 0x7f1\n"), Wait::private_futex_untimed);
    EXPECT_EQ(classify_wait('S', "202 0x7f00 0x109 0x0 0x0 0x0 0xffffffff 0x7ffd 0x7f1\n"),
              Wait::shared_futex_untimed);
    EXPECT_EQ(classify_wait('S', "202 0x7f00 0x189 0x0 0x7ffd1000 0x0 0xffffffff 0x7ffd 0x7f1\n"), Wait::timed);
    EXPECT_EQ(classify_wait('S', "230 0x0 0x0 0x7ffd 0x7ffd 0x0 0x0 0x7ffd 0x7f1\n"), Wait::timed);
    EXPECT_EQ(classify_wait('S', "7 0x7ffd 0x1 0xffffffff 0x0 0x0 0x0 0x7ffd 0x7f1\n"), Wait::io_untimed);
    EXPECT_EQ(classify_wait('S', "7 0x7ffd 0x1 0x3e8 0x0 0x0 0x0 0x7ffd 0x7f1\n"), Wait::timed);
    EXPECT_EQ(classify_wait('S', "61 0x5 0x7ffd 0x0 0x0 0x0 0x0 0x7ffd 0x7f1\n"), Wait::child_wait);
    EXPECT_EQ(classify_wait('S', "running\n"), Wait::running);
    EXPECT_EQ(classify_wait('R', "202 0x1 0x189 0x0 0x0 0x0 0x0 0x0 0x0\n"), Wait::running);
    EXPECT_EQ(classify_wait('D', "0 0x3 0x0 0x0 0x0 0x0 0x0 0x0 0x0\n"), Wait::uninterruptible);
}

ProcessState process(pid_t pid, std::vector<Wait> waits, uint64_t cpu = 0) {
    ProcessState p;
    p.pid = pid;
    pid_t tid = pid;
    for (Wait w : waits) {
        ThreadState t;
        t.tid = tid++;
        t.wait = w;
        t.cpu_time = cpu;
        p.threads.push_back(t);
    }
    return p;
}

TEST(JudgeSample, NeedsAWedgedProcessAndNothingAwake) {
    auto wedged = process(20, {Wait::private_futex_untimed});
    EXPECT_TRUE(judge_sample({process(10, {Wait::child_wait, Wait::io_untimed}), wedged}).stalled);
    EXPECT_FALSE(judge_sample({process(10, {Wait::child_wait, Wait::timed}), wedged}).stalled);
    EXPECT_FALSE(judge_sample({process(10, {Wait::running}), wedged}).stalled);
    EXPECT_FALSE(judge_sample({process(10, {Wait::child_wait}), process(20, {Wait::shared_futex_untimed})}).stalled);
    EXPECT_FALSE(
        judge_sample({process(20, {Wait::private_futex_untimed, Wait::io_untimed})}).stalled);
    EXPECT_FALSE(judge_sample({}).stalled);
}

TEST(StallDetector, CpuTimeThatMovesRestartsTheWindow) {
    using namespace std::chrono_literals;
    StallDetector d(StallOptions{25ms, 100ms});
    auto t0 = StallDetector::Clock::now();
    std::vector<ProcessState> tree{process(10, {Wait::private_futex_untimed}, 5)};
    EXPECT_FALSE(d.observe(tree, t0));
    EXPECT_FALSE(d.observe(tree, t0 + 60ms));
    tree[0].threads[0].cpu_time = 6;  // it ran in between: not stuck after all
    EXPECT_FALSE(d.observe(tree, t0 + 120ms));
    EXPECT_FALSE(d.observe(tree, t0 + 200ms));
    EXPECT_TRUE(d.observe(tree, t0 + 230ms));
    EXPECT_EQ(*d.onset(), t0 + 120ms);
}

}  // namespace
}  // namespace hangar
