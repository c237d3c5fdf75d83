#include "hangar/pid_namespace.hpp"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "hangar/process.hpp"
#include "pid_watch.hpp"

namespace hangar {
namespace {

using testing::PidReports;
using testing::slurp;
using testing::TempDir;
using testing::tree_maker;

int exit_code(Result<ProcessTree>& tree) {
    EXPECT_TRUE(tree.ok()) << (tree.ok() ? "" : tree.error().message);
    if (!tree.ok()) return -1;
    int status = testing::wait_status(*tree);
    return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// `hangar run` keeps one namespace per worker thread: runs follow each other in it.
TEST(PidNamespace, RunsOneAfterAnotherInTheSameNamespace) {
    auto ns = PidNamespace::create();
    ASSERT_TRUE(ns.ok()) << ns.error().message;
    TempDir dir;
    for (int code : {0, 3, 0, 7}) {
        auto tree = ProcessTree::launch(tree_maker(dir, {"exit", std::to_string(code)}), *ns);
        EXPECT_EQ(tree.ok() ? tree->root_pid() : 0, ns->init_pid());
        EXPECT_EQ(exit_code(tree), code);
    }
    EXPECT_TRUE(ns->usable());
}

TEST(PidNamespace, ADaemonOfOneRunIsGoneBeforeTheNextStarts) {
    auto ns = PidNamespace::create();
    ASSERT_TRUE(ns.ok());
    TempDir dir;
    PidReports reports;
    const auto release = dir.path() / "release";
    ASSERT_EQ(mkfifo(release.c_str(), 0600), 0);
    auto tree = ProcessTree::launch(
        tree_maker(dir, {"daemon"}, {reports.env(), "HANGAR_TEST_RELEASE=" + release.string()}), *ns);
    ASSERT_TRUE(tree.ok());
    auto daemon = reports.read_pidfds(1);
    ASSERT_EQ(daemon.size(), 1u);
    ASSERT_FALSE(testing::ended_within(daemon[0], 0)) << "the daemon should be alive before the run ends";
    int fd = open(release.c_str(), O_WRONLY | O_CLOEXEC);  // lets the command exit
    ASSERT_EQ(write(fd, "x", 1), 1);
    close(fd);
    EXPECT_EQ(exit_code(tree), 0);
    // The reaper answers only once the namespace is empty: no waiting needed.
    EXPECT_TRUE(testing::ended_within(daemon[0], 0));
    close(daemon[0]);
    auto next = ProcessTree::launch(tree_maker(dir, {"exit", "0"}), *ns);
    EXPECT_EQ(exit_code(next), 0);
}

TEST(PidNamespace, AKilledRunLeavesTheNamespaceReadyForTheNext) {
    auto ns = PidNamespace::create();
    ASSERT_TRUE(ns.ok());
    TempDir dir;
    PidReports reports;
    auto tree = ProcessTree::launch(tree_maker(dir, {"hang-tree"}, {reports.env()}), *ns);
    ASSERT_TRUE(tree.ok());
    auto pids = reports.read_pidfds(2);
    ASSERT_EQ(pids.size(), 2u);
    tree->kill();
    for (int p : pids) {
        EXPECT_TRUE(testing::ended_within(p, 0));
        close(p);
    }
    EXPECT_FALSE(ns->running());
    auto next = ProcessTree::launch(tree_maker(dir, {"echo", "again"}), *ns);
    EXPECT_EQ(exit_code(next), 0);
    EXPECT_EQ(slurp(dir.path() / "stdout.txt"), "out:again\n");
}

// What happens when a worker thread ends, or the harness dies: the reaper dies, and the
// kernel kills everything in its namespace.
TEST(PidNamespace, DestroyingItEndsTheRunInside) {
    TempDir dir;
    PidReports reports;
    std::vector<int> pids;
    {
        auto ns = PidNamespace::create();
        ASSERT_TRUE(ns.ok());
        CommandSpec spec = tree_maker(dir, {"daemon-hang"}, {reports.env()});
        int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        ASSERT_TRUE(ns->start(spec.argv[0], spec.argv, spec.environment, null_fd, null_fd, null_fd).ok());
        close(null_fd);
        pids = reports.read_pidfds(2);
        EXPECT_TRUE(ns->running());
    }
    ASSERT_EQ(pids.size(), 2u);
    for (int p : pids) {
        EXPECT_TRUE(testing::ended_within(p, 0));
        close(p);
    }
}

TEST(PidNamespace, AProgramThatCannotStartExits127AndTheNamespaceGoesOn) {
    auto ns = PidNamespace::create();
    ASSERT_TRUE(ns.ok());
    TempDir dir;
    const auto not_executable = dir.path() / "script";
    { std::ofstream(not_executable) << "#!/nonexistent/interpreter\n"; }
    ASSERT_EQ(chmod(not_executable.c_str(), 0755), 0);
    CommandSpec spec = tree_maker(dir, {});
    spec.argv = {not_executable.string()};
    auto tree = ProcessTree::launch(spec, *ns);
    EXPECT_EQ(exit_code(tree), 127);
    EXPECT_NE(slurp(dir.path() / "stderr.txt").find("cannot execute"), std::string::npos);
    auto next = ProcessTree::launch(tree_maker(dir, {"exit", "4"}), *ns);
    EXPECT_EQ(exit_code(next), 4);
}

// Without root, the namespace comes through a user namespace; the run must still see the
// user who ran hangar, not nobody. As root, this drops to an unprivileged uid in a child
// process first (exit codes: 0 as expected, 77 cannot be tried here, else a failure).
TEST(PidNamespace, WithoutRootARunSeesTheUsersOwnIds) {
    if (getuid() != 0) GTEST_SKIP() << "needs root to become another user";
    TempDir dir;
    ASSERT_EQ(chmod(dir.path().c_str(), 0777), 0);
    constexpr uid_t kUser = 1000;
    constexpr gid_t kGroup = 1000;
    pid_t child = fork();
    if (child == 0) {
        if (setgroups(0, nullptr) != 0 || setgid(kGroup) != 0 || setuid(kUser) != 0) _exit(77);
        // As if exec'd by that user: a changed uid makes a process undumpable, and then its
        // /proc files (the new namespace's uid_map among them) stay root's.
        prctl(PR_SET_DUMPABLE, 1);
        // In a function, so that the namespace is destroyed (its reaper reaped) before _exit.
        auto try_it = [&]() -> int {
            CommandSpec spec = tree_maker(dir, {"ids"});
            if (access(spec.argv[0].c_str(), X_OK) != 0) return 77;  // a build folder others cannot reach
            auto ns = PidNamespace::create();
            if (!ns) return 77;  // unprivileged user namespaces switched off here
            auto tree = ProcessTree::launch(spec, *ns);
            if (!tree) return 3;
            auto status = tree->collect();
            return status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0 ? 0 : 4;
        };
        _exit(try_it());
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "cannot run unprivileged here";
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_EQ(slurp(dir.path() / "stdout.txt"), "uid 1000 gid 1000\n");
}

}  // namespace
}  // namespace hangar
