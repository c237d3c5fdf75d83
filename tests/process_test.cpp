#include "hangar/process.hpp"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "pid_watch.hpp"

namespace hangar {
namespace {

using testing::PidReports;
using testing::slurp;
using testing::TempDir;
using testing::tree_maker;
using testing::wait_status;

TEST(ProcessTree, ReportsExitStatus) {
    TempDir dir;
    auto tree = ProcessTree::launch(tree_maker(dir, {"exit", "3"}));
    ASSERT_TRUE(tree.ok()) << tree.error().message;
    int status = wait_status(*tree);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 3);
    EXPECT_FALSE(tree->alive());
}

TEST(ProcessTree, ReportsDeathBySignal) {
    TempDir dir;
    auto tree = ProcessTree::launch(tree_maker(dir, {"signal", "11"}));
    ASSERT_TRUE(tree.ok());
    int status = wait_status(*tree);
    ASSERT_TRUE(WIFSIGNALED(status));
    EXPECT_EQ(WTERMSIG(status), SIGSEGV);
}

TEST(ProcessTree, SendsOutputToTheRunsFiles) {
    TempDir dir;
    auto tree = ProcessTree::launch(tree_maker(dir, {"echo", "hello"}));
    ASSERT_TRUE(tree.ok());
    wait_status(*tree);
    EXPECT_EQ(slurp(dir.path() / "stdout.txt"), "out:hello\n");
    EXPECT_EQ(slurp(dir.path() / "stderr.txt"), "err:hello\n");
}

TEST(ProcessTree, PassesNoDescriptorButTheStandardThree) {
    TempDir dir;
    int stray = open("/dev/null", O_RDONLY);  // not close-on-exec: must still not leak
    auto tree = ProcessTree::launch(tree_maker(dir, {"fds"}));
    ASSERT_TRUE(tree.ok());
    wait_status(*tree);
    close(stray);
    // fcntl on fd 3 would be the directory listing in some libcs; tree_maker uses fcntl
    // only, so exactly 0, 1, 2 are open.
    EXPECT_EQ(slurp(dir.path() / "stdout.txt"), "0\n1\n2\n");
}

// LeakSanitizer's tracer reads /proc/<getpid()>/task: in a PID namespace that is only
// right if /proc is mounted for that namespace too.
TEST(ProcessTree, ProcInsideTheRunShowsTheRunsOwnProcesses) {
    TempDir dir;
    auto tree = ProcessTree::launch(tree_maker(dir, {"own-proc"}));
    ASSERT_TRUE(tree.ok());
    wait_status(*tree);
    EXPECT_EQ(slurp(dir.path() / "stdout.txt"), "same pid 2\n");
    EXPECT_EQ(slurp(dir.path() / "stderr.txt"), "");
}

TEST(ProcessTree, MissingProgramIsAnErrorBeforeAnythingStarts) {
    TempDir dir;
    CommandSpec spec = tree_maker(dir, {});
    spec.argv = {"/nonexistent/program"};
    auto tree = ProcessTree::launch(spec);
    ASSERT_FALSE(tree.ok());
    EXPECT_NE(tree.error().message.find("/nonexistent/program"), std::string::npos);
}

TEST(ProcessTree, UnwritableOutputIsAnError) {
    TempDir dir;
    CommandSpec spec = tree_maker(dir, {"exit", "0"});
    spec.stdout_path = dir.path() / "no-such-folder" / "stdout.txt";
    auto tree = ProcessTree::launch(spec);
    ASSERT_FALSE(tree.ok());
    EXPECT_NE(tree.error().message.find("no-such-folder"), std::string::npos);
}

TEST(ProcessTree, DaemonDiesWhenTheCommandExits) {
    TempDir dir;
    PidReports reports;
    const auto release = dir.path() / "release";
    ASSERT_EQ(mkfifo(release.c_str(), 0600), 0);
    auto tree = ProcessTree::launch(tree_maker(dir, {"daemon"}, {reports.env(), "HANGAR_TEST_RELEASE=" + release.string()}));
    ASSERT_TRUE(tree.ok());
    auto daemon = reports.read_pidfds(1);
    ASSERT_EQ(daemon.size(), 1u);
    ASSERT_FALSE(testing::ended_within(daemon[0], 0)) << "the daemon should be alive before the run ends";
    int fd = open(release.c_str(), O_WRONLY | O_CLOEXEC);  // lets the command exit
    ASSERT_EQ(write(fd, "x", 1), 1);
    close(fd);
    int status = wait_status(*tree);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    // Reaping the reaper means the namespace is gone: no waiting needed.
    EXPECT_TRUE(testing::ended_within(daemon[0], 0));
    close(daemon[0]);
}

TEST(ProcessTree, KillEndsEveryProcessOfAHungTree) {
    TempDir dir;
    PidReports reports;
    auto tree = ProcessTree::launch(tree_maker(dir, {"hang-tree"}, {reports.env()}));
    ASSERT_TRUE(tree.ok());
    auto pids = reports.read_pidfds(2);
    ASSERT_EQ(pids.size(), 2u);
    tree->kill();
    for (int fd : pids) {
        EXPECT_TRUE(testing::ended_within(fd, 0));
        close(fd);
    }
}

TEST(ProcessTree, DestructorKillsWhatIsStillRunning) {
    TempDir dir;
    PidReports reports;
    std::vector<int> pids;
    {
        auto tree = ProcessTree::launch(tree_maker(dir, {"daemon-hang"}, {reports.env()}));
        ASSERT_TRUE(tree.ok());
        pids = reports.read_pidfds(2);
    }
    ASSERT_EQ(pids.size(), 2u);
    for (int fd : pids) {
        EXPECT_TRUE(testing::ended_within(fd, 0));
        close(fd);
    }
}

}  // namespace
}  // namespace hangar

#include "hangar/text_file.hpp"

namespace hangar {
namespace {

// What /proc and evidence reading relies on: a file that is gone reads as "", a limit cuts.
// (A /proc read of a process exiting mid-read fails with ESRCH; read_text uses read(2),
// which reports it, where a stream threw: seen with re-import/unguarded-pool's churn.)
TEST(TextFile, ReadsWhatIsThereAndNothingElse) {
    TempDir dir;
    EXPECT_EQ(read_text(dir.path() / "missing"), "");
    std::ofstream(dir.path() / "f") << "abcdef";
    EXPECT_EQ(read_text(dir.path() / "f", 3), "abc");
    EXPECT_EQ(read_text(dir.path() / "f"), "abcdef");
}

}  // namespace
}  // namespace hangar
