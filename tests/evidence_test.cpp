// Evidence capture is itself supervised: a stuck stack tool is killed within the budget,
// the capture goes on, and the run still gets its verdict.
#include "hangar/evidence.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "hangar/watchdog.hpp"
#include "pid_watch.hpp"
#include "run_hangar.hpp"

namespace hangar {
namespace {

using testing::TempDir;

TEST(Evidence, AStuckDebuggerIsKilledAndTheCaptureFinishes) {
    TempDir dir;
    CommandSpec spec = testing::tree_maker(dir, {"wedge"});
    auto output = RunOutput::start(spec.stdout_path, spec.stderr_path, 1 << 20, "");
    ASSERT_TRUE(output.ok());
    spec.stdout_fd = (*output)->stdout_fd();
    spec.stderr_fd = (*output)->stderr_fd();
    auto tree = ProcessTree::launch(spec);
    (*output)->launched();
    ASSERT_TRUE(tree.ok());
    StallDetector detector;
    EvidenceOptions options;
    options.budget = std::chrono::milliseconds(1500);
    options.stack_tools = {STUCK_TOOL};
    Evidence evidence;
    WatchOptions watch_options;
    watch_options.limit = std::chrono::seconds(30);
    watch_options.stall = &detector;
    auto w = watch(*tree, watch_options);
    ASSERT_TRUE(w.ok());
    evidence = capture_evidence(tree->root_pid(), dir.path() / "evidence", **output, options);
    tree->kill();
    EXPECT_EQ(w->ending.kind, Ending::Kind::deadlocked);  // the verdict stands
    ASSERT_FALSE(evidence.notes.empty());
    EXPECT_NE(evidence.notes[0].find("was killed"), std::string::npos) << evidence.notes[0];
    EXPECT_TRUE(evidence.signature.empty());
    // What /proc says is kept even when no stack could be read.
    std::string text = testing::slurp(dir.path() / "evidence" / "proc.txt");
    EXPECT_NE(text.find("WEDGED"), std::string::npos) << text;
    EXPECT_NE(text.find("FUTEX_WAIT"), std::string::npos) << text;
    std::string summary = testing::slurp(dir.path() / "evidence" / "summary.txt");
    EXPECT_NE(summary.find("Last lines of stderr"), std::string::npos) << summary;
    EXPECT_NE(summary.find("WEDGED"), std::string::npos) << summary;
}

// The signature and the evidence name the root of the wait-for graph, through `hangar exec`.
struct Hang {
    std::string signature, summary;
};

Hang exec_hang(const TempDir& dir, std::vector<std::string> command, const std::string& timeout = "30") {
    std::vector<std::string> args{"exec", "--timeout", timeout, "--json", "r.json", "--"};
    args.insert(args.end(), command.begin(), command.end());
    testing::run_hangar(args, dir.path(), {}, false);
    auto run = testing::read_json(dir.path() / "r.json")["cells"][0]["runs"][0];
    Hang h;
    h.signature = run.value("signature", "");
    h.summary = testing::slurp(std::filesystem::path(run["evidence"].get<std::string>()) / "evidence" / "summary.txt");
    return h;
}

TEST(Evidence, NamesTheWriteAPipeCycleHangsOnAndPrintsTheGraph) {
    TempDir dir;
    Hang h = exec_hang(dir, {TREE_MAKER, "pipe-cycle"});
    EXPECT_NE(h.signature.find("pipe_cycle"), std::string::npos) << h.signature;
    EXPECT_NE(h.summary.find("root of the wait: pid"), std::string::npos) << h.summary;
    EXPECT_NE(h.summary.find("writes pipe:["), std::string::npos) << h.summary;
    EXPECT_NE(h.summary.find("whose readers are pid"), std::string::npos) << h.summary;
    EXPECT_NE(h.summary.find("No thread is live"), std::string::npos) << h.summary;
}

TEST(Evidence, SaysAMutexsOwnerIsNotInItsProcess) {
    TempDir dir;
    Hang h = exec_hang(dir, {TREE_MAKER, "wedge"});
    EXPECT_EQ(h.signature, "main > wedge (owner not in this process: held across fork)");
    EXPECT_NE(h.summary.find("owner not in this process: held across fork (it is thread"), std::string::npos)
        << h.summary;
}

TEST(Evidence, ATimeoutNamesTheThreadThatCouldStillAct) {
    TempDir dir;
    Hang h = exec_hang(dir, {TREE_MAKER, "wedge-polling"}, "1");
    EXPECT_NE(h.summary.find("not proven a deadlock: pid"), std::string::npos) << h.summary;
    EXPECT_NE(h.summary.find("nanosleep"), std::string::npos) << h.summary;
    EXPECT_NE(h.summary.find("could act"), std::string::npos) << h.summary;
    EXPECT_NE(h.signature.find("(owner not in this process"), std::string::npos) << h.signature;  // the stuck child
}

TEST(Evidence, NamesTheGilsHolderNotItsWaiter) {
    TempDir dir;
    Hang h = exec_hang(dir, {"/usr/bin/python3", GIL_HOLDER_PY, "stuck"});
    EXPECT_EQ(h.signature, "gil_holder.py:<module>");
    EXPECT_NE(h.summary.find("waits for the GIL"), std::string::npos) << h.summary;
}

}  // namespace
}  // namespace hangar
