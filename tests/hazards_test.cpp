// --hazards as a user meets it: the fork-hazard detector (preload/) in runs, what the results
// say of each fork, and manifests' hazard clauses judged like hangs.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pid_watch.hpp"
#include "run_hangar.hpp"

namespace hangar {
namespace {

using testing::Finished;
using testing::read_json;
using testing::TempDir;

nlohmann::json first_run(const TempDir& dir) { return read_json(dir.path() / "r.json")["cells"][0]["runs"][0]; }

// tree_maker's wedge: a thread holds a std::mutex, the main thread forks, the child waits
// on the mutex forever.
TEST(Hazards, AForkWhileAnotherThreadHoldsAMutexNamesTheHolderAndWhereItTookIt) {
    TempDir dir;
    // A loaded machine may keep the holder from answering within the detector's 50 ms.
    Finished f = testing::run_hangar({"run", "fixture/pass-expected-but-hangs", "--hazards", "-q", "--json", "r.json"},
                                     dir.path(), {"HANGAR_FORKWATCH_STACK_MS=5000"});
    ASSERT_EQ(f.exit_code, 1) << f.err;  // the fixture is built to miss: it hangs
    EXPECT_NE(f.out.find("hazard 1/1"), std::string::npos) << f.out;
    auto hazards = first_run(dir)["fork_hazards"];
    EXPECT_EQ(hazards["checked"], true);
    ASSERT_EQ(hazards["forks"], 1) << hazards.dump(1);
    auto held = hazards["shown"][0]["held"][0];
    EXPECT_EQ(held["kind"], "pthread_mutex");
    EXPECT_NE(held["holder_tid"], hazards["shown"][0]["tid"]);  // another thread than the forking one
    EXPECT_EQ(held["child_waited"], true);
    // Named from the program's debug information: the lambda in wedge() that took it.
    EXPECT_NE(held["signature"].get<std::string>().find("held mutex in lambda at tree_maker.cpp:"), std::string::npos)
        << held.dump(1);
    // What the holder was doing: in its lambda, blocked in read(), or, on a loaded machine,
    // still returning from the write() that told the main thread to fork.
    bool io = false, lambda = false;
    for (const auto& frame : held["stack"]) {
        const std::string f = frame.get<std::string>();
        io |= f.find("(read+") != std::string::npos || f.find("(__write+") != std::string::npos ||
              f.find("(write+") != std::string::npos;
        lambda |= f.find("(lambda at tree_maker.cpp:") != std::string::npos;
    }
    EXPECT_TRUE(io && lambda) << held.dump(1);
    auto cell = read_json(dir.path() / "r.json")["cells"][0]["hazards"];
    EXPECT_EQ(cell["runs"], 1);
    EXPECT_EQ(cell["checked"], true);
}

TEST(Hazards, AProgramThatForksWithOneThreadHasNone) {
    TempDir dir;
    Finished f = testing::run_hangar({"run", "fixture/passes", "--method", "fork", "--hazards", "-q", "--json", "r.json"},
                                     dir.path());
    ASSERT_EQ(f.exit_code, 0) << f.err;
    auto hazards = first_run(dir)["fork_hazards"];
    EXPECT_EQ(hazards["checked"], true);
    EXPECT_EQ(hazards["forks"], 0);
    EXPECT_NE(f.out.find("hazard 0/1"), std::string::npos) << f.out;
}

// A statically linked program never loads the detector: the run says so and goes on.
TEST(Hazards, AStaticProgramIsSaidNotToBeChecked) {
    TempDir dir;
    Finished f = testing::run_hangar({"exec", "--hazards", "--json", "r.json", "--", "/sbin/ldconfig", "--version"},
                                     dir.path());
    ASSERT_EQ(f.exit_code, 0) << f.err;
    auto hazards = first_run(dir)["fork_hazards"];
    EXPECT_EQ(hazards["checked"], false);
    EXPECT_NE(hazards["note"].get<std::string>().find("ignores LD_PRELOAD"), std::string::npos) << hazards.dump();
}

// "pass, hazard": with --hazards a missing hazard is a miss like a missing hang; without it
// the clause is not judged.
TEST(Hazards, AManifestsHazardClauseIsJudgedOnlyWithTheDetector) {
    TempDir dir;
    Finished with = testing::run_hangar({"run", "fixture/hazard-expected-but-none", "--hazards", "-q", "--json", "r.json"},
                                        dir.path());
    EXPECT_EQ(with.exit_code, 1) << with.out;
    EXPECT_EQ(read_json(dir.path() / "r.json")["cells"][0]["why"], "expected a fork hazard in every run, saw 0/1");
    Finished without = testing::run_hangar({"run", "fixture/hazard-expected-but-none", "-q"}, dir.path());
    EXPECT_EQ(without.exit_code, 0) << without.out;
}

}  // namespace
}  // namespace hangar
