// Evidence capture is itself supervised: a stuck stack tool is killed within the budget,
// the capture goes on, and the run still gets its verdict.
#include "hangar/evidence.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "hangar/watchdog.hpp"
#include "pid_watch.hpp"

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

}  // namespace
}  // namespace hangar
