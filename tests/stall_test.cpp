// Stall detection must prove real deadlocks early and never call a healthy run one.
#include "hangar/stall.hpp"

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>

#include "fake_facts.hpp"
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

// A healthy program: it exits 0 by itself, never called hung.
void expect_passes(const Watched& w) {
    EXPECT_EQ(w.ending.kind, Ending::Kind::exited);
    EXPECT_EQ(w.ending.code, 0);
}

TEST(StallDetection, AChildWedgedOnAnInheritedMutexIsADeadlockLongBeforeTheLimit) {
    Watched w = supervise({"wedge"}, std::chrono::seconds(30));
    EXPECT_EQ(w.ending.kind, Ending::Kind::deadlocked);
    EXPECT_LT(w.elapsed, std::chrono::seconds(10));
    EXPECT_GE(w.time_to_verdict, StallOptions{}.confirm_structural);  // the owner is in the parent
}

TEST(StallDetection, AProcessThatSleepsIsNotADeadlock) {
    expect_passes(supervise({"nap", "700"}, std::chrono::seconds(30)));
}

// Nothing can act before the 20 s limit, but the sleeper can act after it: the sleep
// ends after 60 s. That is a timeout (too slow), never a deadlock, and it is proven early.
TEST(StallDetection, ASleepPastTheLimitIsATimeoutProvenEarlyNotADeadlock) {
    Watched w = supervise({"nap", "60000"}, std::chrono::seconds(20));
    EXPECT_EQ(w.ending.kind, Ending::Kind::timed_out);
    EXPECT_LT(w.elapsed, std::chrono::seconds(10));
}

TEST(StallDetection, AParentReadingAPipeFromALateChildIsNotADeadlock) {
    expect_passes(supervise({"late-answer", "700"}, std::chrono::seconds(30)));
}

TEST(StallDetection, AChildOnAProcessSharedLockItsParentReleasesIsNotADeadlock) {
    expect_passes(supervise({"shared-lock", "700"}, std::chrono::seconds(30)));
}

TEST(StallDetection, AChildOnAMultiprocessingLockItsParentReleasesIsNotADeadlock) {
    expect_passes(supervise_command({"/usr/bin/python3", SHARED_LOCK_PY, "0.7"}, std::chrono::seconds(30)));
}

TEST(StallDetection, ABusyLoopIsATimeoutNeverADeadlock) {
    Watched w = supervise({"spin"}, std::chrono::milliseconds(700));
    EXPECT_EQ(w.ending.kind, Ending::Kind::timed_out);
}

TEST(StallDetection, AWedgedChildWhoseParentPollsWithADeadlineIsATimeout) {
    Watched w = supervise({"wedge-polling"}, std::chrono::milliseconds(700));
    EXPECT_EQ(w.ending.kind, Ending::Kind::timed_out);
}

// Each class of hang the wait-for graph proves, next to its healthy twin. A twin waits
// 700 ms, far longer than the confirmation window: a false verdict would have come first.
using namespace std::chrono_literals;

bool alarms_visible() { return access("/proc/timer_list", R_OK) == 0; }

TEST(StallDetection, AChildWritingAFullPipeItsParentNeverReadsIsADeadlock) {
    Watched w = supervise({"pipe-cycle"}, 30s);
    EXPECT_EQ(w.ending.kind, Ending::Kind::deadlocked);
    EXPECT_LT(w.elapsed, 10s);
}

TEST(StallDetection, AChildReadingAPipeWhoseWriterSleepsIsNotADeadlock) {
    expect_passes(supervise({"sleeping-writer", "700"}, 30s));
}

TEST(StallDetection, APollWithADeadlineThatThenActsIsNotADeadlock) {
    expect_passes(supervise({"poll-then-act", "700"}, 30s));
}

// The parent acts when its 60 s poll expires (it could end the stuck child then, like a
// watchdog): the run outlasts its 10 s limit, proven at once, but it is not a deadlock.
TEST(StallDetection, APollWhoseDeadlineIsPastTheRunsLimitIsATimeoutProvenEarly) {
    Watched w = supervise({"poll-then-act", "60000"}, 10s);
    EXPECT_EQ(w.ending.kind, Ending::Kind::timed_out);
    EXPECT_LT(w.elapsed, 5s);
}

TEST(StallDetection, AWatchdogThatKillsAndRestartsAStuckChildPasses) {
    expect_passes(supervise({"watchdog-restart"}, 30s));
}

TEST(StallDetection, AnAlarmThatBreaksALockWaitIsNotADeadlock) {
    expect_passes(supervise({"alarm-lock", "700"}, 30s));
}

TEST(StallDetection, ALockWaitWithAHandlerButNoAlarmPendingIsADeadlock) {
    if (!alarms_visible()) {
        // Not root: a caught SIGALRM alone keeps the run alive, as an alarm might be armed.
        Watched w = supervise({"alarm-lock", "0"}, 1s);
        EXPECT_EQ(w.ending.kind, Ending::Kind::timed_out);
        return;
    }
    // Another test's alarm may be pending for a moment; then this one's verdict waits for it.
    Watched w = supervise({"alarm-lock", "0"}, 30s);
    EXPECT_EQ(w.ending.kind, Ending::Kind::deadlocked);
}

TEST(StallDetection, AnAlarmThatKillsAStuckChildIsNotADeadlock) {
    if (!alarms_visible()) GTEST_SKIP() << "/proc/timer_list is root's: the alarm's default action is the blind spot";
    expect_passes(supervise({"alarm-kill", "700"}, 30s));
}

TEST(StallDetection, ASocketReadWithSoRcvtimeoIsNotADeadlock) {
    expect_passes(supervise({"rcvtimeo", "700"}, 30s));
}

TEST(StallDetection, ASocketReadWhosePeerIsStuckIsADeadlock) {
    Watched w = supervise({"rcvtimeo", "0"}, 30s);
    EXPECT_EQ(w.ending.kind, Ending::Kind::deadlocked);
}

TEST(StallDetection, ATimedLockWhoseDeadlineComesBeforeTheLimitIsNotADeadlock) {
    expect_passes(supervise({"timed-lock", "700"}, 30s));
}

// The lock can never be released (its owner stayed in the parent), but the wait ends at
// its deadline and the child then exits: slow, not stuck, so a timeout and not a deadlock.
TEST(StallDetection, ATimedLockWhoseDeadlineIsPastTheLimitIsATimeoutNotADeadlock) {
    Watched w = supervise({"timed-lock", "60000"}, 20s);
    EXPECT_EQ(w.ending.kind, Ending::Kind::timed_out);
    EXPECT_LT(w.elapsed, 10s);  // proven early: nothing can act before the limit
}

// A child asks for a file lock its parent holds while the parent waits for the child.
TEST(StallDetection, AFileLockHeldByTheParentThatWaitsForTheChildIsADeadlock) {
    for (const char* kind : {"flock", "posix-lock"}) {
        Watched w = supervise({kind, "-1"}, 30s);
        EXPECT_EQ(w.ending.kind, Ending::Kind::deadlocked) << kind;
    }
}

TEST(StallDetection, AFileLockReleasedLaterIsNotADeadlock) {
    for (const char* kind : {"flock", "posix-lock"}) {
        SCOPED_TRACE(kind);
        expect_passes(supervise({kind, "700"}, 30s));
    }
}

TEST(StallDetection, ALockAndPipeCycleInOneProcessIsADeadlock) {
    Watched w = supervise({"lock-pipe-cycle"}, 30s);
    EXPECT_EQ(w.ending.kind, Ending::Kind::deadlocked);
}

TEST(StallDetection, AGilWaiterWhoseHolderIsStuckIsADeadlock) {
    Watched w = supervise_command({"/usr/bin/python3", GIL_HOLDER_PY, "stuck"}, 30s);
    EXPECT_EQ(w.ending.kind, Ending::Kind::deadlocked);
}

TEST(StallDetection, AGilWaiterWhoseHolderIsAnsweredLateIsNotADeadlock) {
    expect_passes(supervise_command({"/usr/bin/python3", GIL_HOLDER_PY, "late", "700"}, 30s));
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

using testing::blocked;
using testing::FakeFacts;
using testing::process_of;

constexpr uint64_t kAny = ~uint64_t{0};  // wait4(-1, ...)

ThreadState private_lock(pid_t tid, uint64_t cpu = 0) {
    ThreadState t = blocked(tid, SYS_futex, {0x5000, 0x80 /*FUTEX_WAIT|PRIVATE*/, 2, 0, 0, 0});
    t.cpu_time = cpu;
    return t;
}

TEST(JudgeSample, NeedsEveryThreadOfTheTreeStuck) {
    FakeFacts facts;
    const auto now = SteadyClock::now();
    auto parent = process_of(10, 1, {blocked(10, SYS_wait4, {kAny, 0, 0, 0, 0, 0})});
    auto child = process_of(20, 10, {private_lock(20)});
    EXPECT_TRUE(judge_sample({parent, child}, facts, nullptr, now).stalled);

    auto sleeper = parent;  // a second thread that sleeps 100 ms and could act
    sleeper.threads.push_back(blocked(11, SYS_nanosleep, {0x7000, 0, 0, 0, 0, 0}));
    facts.processes[10].put(0x7000, timespec{0, 100000000});
    auto sample = judge_sample({sleeper, child}, facts, nullptr, now);
    EXPECT_FALSE(sample.stalled);
    EXPECT_NE(sample.reason.find("pid 10 thread 11"), std::string::npos) << sample.reason;

    auto running = parent;
    running.threads[0].state = 'R';
    EXPECT_FALSE(judge_sample({running, child}, facts, nullptr, now).stalled);
    EXPECT_FALSE(judge_sample({}, facts, nullptr, now).stalled);
}

TEST(StallDetector, CpuTimeThatMovesRestartsTheWindow) {
    using namespace std::chrono_literals;
    FakeFacts facts;
    StallDetector d(StallOptions{25ms, 100ms, 50ms});
    auto t0 = StallDetector::Clock::now();
    std::vector<ProcessState> tree{process_of(10, 1, {private_lock(10, 5)})};
    EXPECT_FALSE(d.observe(tree, facts, t0));
    EXPECT_FALSE(d.observe(tree, facts, t0 + 60ms));
    tree[0].threads[0].cpu_time = 6;  // it ran in between: not stuck after all
    EXPECT_FALSE(d.observe(tree, facts, t0 + 120ms));
    EXPECT_FALSE(d.observe(tree, facts, t0 + 200ms));
    EXPECT_TRUE(d.observe(tree, facts, t0 + 230ms));
    EXPECT_EQ(*d.onset(), t0 + 120ms);
}

TEST(StallDetector, AWaitThatChangesRestartsTheWindow) {
    using namespace std::chrono_literals;
    FakeFacts facts;
    StallDetector d(StallOptions{25ms, 100ms, 50ms});
    auto t0 = StallDetector::Clock::now();
    std::vector<ProcessState> tree{process_of(10, 1, {private_lock(10)})};
    EXPECT_FALSE(d.observe(tree, facts, t0));
    tree[0].threads[0].args[0] = 0x6000;  // woke, did something, and waits on another lock
    EXPECT_FALSE(d.observe(tree, facts, t0 + 90ms));
    EXPECT_FALSE(d.observe(tree, facts, t0 + 150ms));
    EXPECT_TRUE(d.observe(tree, facts, t0 + 190ms));
}

TEST(StallDetector, AMutexOwnedOutsideItsProcessNeedsOnlyTheShortWindow) {
    using namespace std::chrono_literals;
    FakeFacts facts;
    StallDetector d(StallOptions{25ms, 150ms, 50ms});
    auto t0 = StallDetector::Clock::now();
    // pthread_mutex_t: __lock 2, __count 0, __owner 3 (a thread of the parent at fork), __nusers 1
    facts.processes[10].put(0x5000, std::array<int32_t, 10>{2, 0, 3, 1, 0, 0, 0, 0, 0, 0});
    facts.processes[10].own = {{10, 5}};
    std::vector<ProcessState> tree{process_of(9, 1, {blocked(9, SYS_wait4, {kAny, 0, 0, 0, 0, 0})}),
                                   process_of(10, 9, {private_lock(10)})};
    EXPECT_FALSE(d.observe(tree, facts, t0));
    EXPECT_TRUE(d.last().structural);
    EXPECT_TRUE(d.observe(tree, facts, t0 + 50ms));
}

}  // namespace
}  // namespace hangar
