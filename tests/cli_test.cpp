// The `hangar` command as a user meets it: bad input, the table, the results JSON, and
// what is left behind when it is interrupted or killed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "pid_watch.hpp"
#include "run_hangar.hpp"

namespace hangar {
namespace {

using testing::Finished;
using testing::read_json;
using testing::TempDir;

int lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

struct BadInput {
    std::vector<std::string> args;
    std::string says;  // a piece of the one-line message
};

TEST(Cli, BadInputGetsOneLineAndExitTwoAndWritesNothing) {
    TempDir dir;
    std::ofstream(dir.path() / "a-file") << "x";
    ASSERT_EQ(mkfifo((dir.path() / "fifo").c_str(), 0644), 0);
    const std::vector<BadInput> cases = {
        {{"run", "nope"}, "unknown scenario 'nope'; known: fixture"},
        {{"run", "fixture/nope"}, "fixture has: passes"},
        {{"run", "--method", "vfork"}, "vfork"},
        {{"run", "--method", "fork,sppawn"}, "sppawn"},
        {{"run", "--repeat", "0"}, "--repeat"},
        {{"run", "--timeout", "-1"}, "--timeout"},
        {{"run", "--timeout", "soon"}, "--timeout"},
        {{"run", "--no-such-flag"}, "--no-such-flag"},
        {{"run", "fixture/passes", "--out", (dir.path() / "a-file" / "out").string()}, "output folder"},
        {{"run", "fixture/passes", "--json", (dir.path() / "missing" / "r.json").string()}, "--json"},
        {{"--python", "/nonexistent/python3", "run", "fixture/python-passes"}, "python interpreter"},
        {{"frobnicate"}, "frobnicate"},
        {{"run", "--timeout", "nan"}, "not a number of seconds"},
        {{"run", "--timeout", "1e12"}, "not a number of seconds"},
        {{"run", "--timeout", std::string(400, '9')}, "not a number of seconds"},
        {{"run", "--max-output", "9Z"}, "not a size"},
        {{"run", "--shard", "3/2"}, "K/N"},
        {{"exec", "--timeout", "nan", "--", "true"}, "not a number of seconds"},
        {{"exec", "--", "/tmp"}, "it is a folder"},
        {{"exec", "--", "/nonexistent/program"}, "cannot execute"},
        {{"report", "/nonexistent.json", "--out", "x"}, "nonexistent"},
        {{"report", (dir.path() / "fifo").string(), "--out", "x"}, "not a regular file"},  // would block
        {{"run", "--timeout", "0x10"}, "not a number of seconds"},
        {{"run", "--timeout", "infinity"}, "not a number of seconds"},
    };
    for (const auto& c : cases) {
        TempDir cwd;
        Finished f = testing::run_hangar(c.args, cwd.path());
        std::string shown = c.args.front() + " " + (c.args.size() > 1 ? c.args[1] : "");
        EXPECT_EQ(f.exit_code, 2) << shown << "\n" << f.err;
        EXPECT_EQ(lines(f.err), 1) << shown << "\n" << f.err;
        EXPECT_LT(f.err.size(), 400u) << shown << "\n" << f.err;  // short: never echoes a 400-digit number back
        EXPECT_NE(f.err.find(c.says), std::string::npos) << shown << "\n" << f.err;
        EXPECT_EQ(f.out, "") << shown;
        EXPECT_FALSE(std::filesystem::exists(cwd.path() / "hangar-out")) << shown;
        EXPECT_FALSE(std::filesystem::exists(dir.path() / "missing")) << shown;
    }
}

// Progress lines, one per finished cell when stderr is not a terminal, name the cell with
// its sanitizer, and a cell that never runs says why without calling itself a miss.
TEST(Cli, ProgressLinesNameTheSanitizerAndANotApplicableCellIsNoMiss) {
    TempDir dir;
    Finished f = testing::run_hangar({"run", "fixture/python-passes", "--sanitizer", "none,tsan"}, dir.path());
    EXPECT_EQ(f.exit_code, 0) << f.err;
    EXPECT_NE(f.err.find("fixture/python-passes spawn: pass 1/1 (met)"), std::string::npos) << f.err;
    EXPECT_NE(f.err.find("fixture/python-passes spawn/tsan: n/a (python variants run the real CPython"),
              std::string::npos)
        << f.err;
    EXPECT_EQ(f.err.find("MISSED"), std::string::npos) << f.err;
}

TEST(Cli, HelpTeachesAndExitsZero) {
    TempDir dir;
    Finished f = testing::run_hangar({"--help"}, dir.path());
    EXPECT_EQ(f.exit_code, 0);
    EXPECT_NE(f.out.find("Examples:"), std::string::npos);
    EXPECT_NE(f.out.find("Exit status"), std::string::npos);
}

TEST(Cli, ListShowsVariantsMethodsAndExpectations) {
    TempDir dir;
    Finished f = testing::run_hangar({"list"}, dir.path());
    EXPECT_EQ(f.exit_code, 0) << f.err;
    EXPECT_NE(f.out.find("hangs (native)"), std::string::npos) << f.out;
    EXPECT_NE(f.out.find("fork: hang"), std::string::npos) << f.out;
    EXPECT_NE(f.out.find("spawn: pass, starts == 2"), std::string::npos) << f.out;
}

TEST(Cli, ListWhereSaysWhereEverythingWasFound) {
    TempDir dir;
    Finished f = testing::run_hangar({"list", "--where"}, dir.path(), {}, false);
    EXPECT_EQ(f.exit_code, 0) << f.err;
    EXPECT_NE(f.out.find("layout        build tree, found by "), std::string::npos) << f.out;
    EXPECT_NE(f.out.find("hangar-build-tree.txt"), std::string::npos) << f.out;
    EXPECT_NE(f.out.find("forkwatch     "), std::string::npos) << f.out;
    EXPECT_EQ(f.out.find("(missing)"), std::string::npos) << f.out;
    // --scenarios is said as such.
    Finished given = testing::run_hangar({"list", "--where"}, dir.path());
    EXPECT_NE(given.out.find("/fixtures/scenarios (--scenarios)"), std::string::npos) << given.out;
}

TEST(Cli, ListOfAFolderWithoutFamiliesIsBadInput) {
    TempDir dir;
    std::filesystem::create_directories(dir.path() / "empty" / "not-a-family");
    Finished f = testing::run_hangar({"--scenarios", (dir.path() / "empty").string(), "list"}, dir.path());
    EXPECT_EQ(f.exit_code, 2);
    EXPECT_EQ(lines(f.err), 1) << f.err;
    EXPECT_NE(f.err.find("no scenario families in"), std::string::npos) << f.err;
}

// The registrations other projects' builds make (cmake/HangarScenarios.cmake): only the
// methods and builds asked for, with their labels, reports under the folder given.
TEST(Cli, CTestRegistrationsTakeMethodsSanitizersLabelsAndAReportFolder) {
    TempDir dir;
    const auto file = dir.path() / "tests.cmake";
    Finished f = testing::run_hangar({"list", "--ctest-file", file.string(), "--ctest-methods", "spawn",
                                      "--ctest-sanitizers", "none", "--ctest-labels", "mine,nightly",
                                      "--ctest-out", (dir.path() / "reports").string()},
                                     dir.path());
    ASSERT_EQ(f.exit_code, 0) << f.err;
    const std::string text = testing::slurp(file);
    EXPECT_NE(text.find("add_test([==[hang:fixture/passes:spawn]==]"), std::string::npos) << text;
    EXPECT_EQ(text.find(":fork]==]"), std::string::npos) << text;
    EXPECT_EQ(text.find(":tsan]==]"), std::string::npos) << text;
    EXPECT_NE(text.find("LABELS [==[hang;spawn;fixture;mine;nightly]==]"), std::string::npos) << text;
    EXPECT_NE(text.find((dir.path() / "reports" / "fixture").string()), std::string::npos) << text;
    Finished bad = testing::run_hangar({"list", "--ctest-file", file.string(), "--ctest-labels", "a;b"}, dir.path());
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.err.find("not a label"), std::string::npos) << bad.err;
}

TEST(Cli, RunPrintsTheComparisonAndWritesTheResultsContract) {
    TempDir dir;
    Finished f = testing::run_hangar({"run", "fixture/passes", "fixture/hangs", "fixture/starts-twice", "--timeout",
                                      "0.5", "--json", "r.json", "--quiet"},
                                     dir.path());
    ASSERT_EQ(f.exit_code, 0) << f.out << f.err;
    EXPECT_NE(f.out.find("fixture/hangs"), std::string::npos);
    EXPECT_NE(f.out.find("timeout 1/1 met"), std::string::npos) << f.out;
    EXPECT_NE(f.out.find("4 cells met, 0 missed"), std::string::npos) << f.out;

    nlohmann::json r = read_json(dir.path() / "r.json");
    EXPECT_EQ(r["schema"], "hangar.results/1");
    EXPECT_EQ(r["complete"], true);
    ASSERT_EQ(r["cells"].size(), 4u);
    for (const auto& cell : r["cells"]) {
        for (const char* key : {"scenario", "variant", "method", "sanitizer", "expect", "counts", "met", "runs"})
            EXPECT_TRUE(cell.contains(key)) << key;
        EXPECT_EQ(cell["sanitizer"], "none");
        EXPECT_EQ(cell["met"], true);
        for (const auto& run : cell["runs"]) {
            EXPECT_TRUE(run.contains("verdict") && run.contains("seconds") && run.contains("evidence"));
            EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(run["evidence"]) / "run.json"));
        }
    }
    const auto& hang = r["cells"][2];
    EXPECT_EQ(hang["variant"], "hangs");
    EXPECT_EQ(hang["counts"]["timeout"], 1);
    EXPECT_FALSE(hang["runs"][0].contains("exit_code"));
    EXPECT_EQ(r["cells"][0]["runs"][0]["exit_code"], 0);
    EXPECT_EQ(r["cells"][3]["runs"][0]["workflow_starts"], 2);
    // The session folder holds the same results.
    EXPECT_EQ(read_json(dir.path() / "hangar-out" / "latest" / "results.json")["cells"], r["cells"]);
}

TEST(Cli, AMissedExpectationExitsOne) {
    TempDir dir;
    Finished f = testing::run_hangar({"run", "fixture/hang-expected-but-passes", "--quiet"}, dir.path());
    EXPECT_EQ(f.exit_code, 1);
    EXPECT_NE(f.out.find("pass 1/1 MISSED"), std::string::npos) << f.out;
    EXPECT_NE(f.out.find("0 cells met, 1 missed"), std::string::npos) << f.out;
}

TEST(Cli, ProgressLinesWhenNotATerminal) {
    TempDir dir;
    Finished f = testing::run_hangar({"run", "fixture/passes", "-j", "1"}, dir.path());
    EXPECT_EQ(f.exit_code, 0);
    EXPECT_NE(f.err.find("[1/2] fixture/passes fork: pass 1/1 (met)"), std::string::npos) << f.err;
    EXPECT_NE(f.err.find("[2/2] fixture/passes spawn"), std::string::npos) << f.err;
}

TEST(Cli, AMalformedManifestIsReportedAndTheOthersStillRun) {
    TempDir scenarios;
    std::filesystem::copy(FIXTURE_SCENARIOS, scenarios.path(), std::filesystem::copy_options::recursive);
    std::filesystem::create_directories(scenarios.path() / "broken");
    std::ofstream(scenarios.path() / "broken" / "manifest.toml") << "family = \"broken\"\n[[variant]]\nname = 3\n";
    TempDir dir;
    Finished f = testing::run_hangar({"--scenarios", scenarios.path().string(), "run", "fixture/passes", "--quiet"},
                                     dir.path());
    EXPECT_EQ(f.exit_code, 2);
    EXPECT_EQ(lines(f.err), 1) << f.err;
    EXPECT_NE(f.err.find("broken/manifest.toml:3: 'name'"), std::string::npos) << f.err;
    EXPECT_NE(f.out.find("2 cells met, 0 missed"), std::string::npos) << f.out;
}

// The harness killed by SIGKILL cannot clean up: the kernel must, through the PID
// namespace and PR_SET_PDEATHSIG. The run's command and its daemon both must die.
TEST(Cli, SigkillOfHangarLeavesNoScenarioProcess) {
    TempDir dir;
    testing::PidReports reports;
    pid_t hangar = testing::start_hangar({"run", "fixture/hangs", "--timeout", "120", "--quiet"}, dir.path(),
                                         {reports.env()});
    auto pids = reports.read_pidfds(2);
    ASSERT_EQ(pids.size(), 2u);
    for (int fd : pids) ASSERT_FALSE(testing::ended_within(fd, 0));
    kill(hangar, SIGKILL);
    testing::wait_hangar(hangar, dir.path());
    for (int fd : pids) EXPECT_TRUE(testing::ended_within(fd, 10000)) << "a scenario process outlived hangar";
}

TEST(Cli, AnInterruptKeepsTheCellsThatFinished) {
    TempDir dir;
    testing::PidReports reports;
    pid_t hangar = testing::start_hangar(
        {"run", "fixture/passes", "fixture/hangs", "--timeout", "120", "-j", "1", "--json", "r.json", "--quiet"}, dir.path(),
        {reports.env()});
    auto pids = reports.read_pidfds(2);  // the hang has started, so both passes cells are done
    ASSERT_EQ(pids.size(), 2u);
    kill(hangar, SIGINT);
    Finished f = testing::wait_hangar(hangar, dir.path());
    EXPECT_EQ(f.exit_code, 130);
    EXPECT_NE(f.err.find("interrupted"), std::string::npos) << f.err;
    for (int fd : pids) EXPECT_TRUE(testing::ended_within(fd, 0));
    nlohmann::json r = read_json(dir.path() / "r.json");
    EXPECT_EQ(r["complete"], false);
    ASSERT_EQ(r["cells"].size(), 2u);
    EXPECT_EQ(r["cells"][1]["method"], "spawn");
}

}  // namespace
}  // namespace hangar

namespace hangar {
namespace {

TEST(Exec, SupervisesAnyCommandWithTheSameVerdictsAndResults) {
    TempDir dir;
    Finished hang = testing::run_hangar({"exec", "--timeout", "30", "--json", "r.json", "--", TREE_MAKER, "wedge"},
                                        dir.path(), {}, false);
    EXPECT_EQ(hang.exit_code, 3) << hang.err;
    EXPECT_NE(hang.out.find("deadlock after"), std::string::npos) << hang.out;
    nlohmann::json r = read_json(dir.path() / "r.json");
    ASSERT_EQ(r["cells"].size(), 1u);
    EXPECT_EQ(r["cells"][0]["method"], "none");
    EXPECT_EQ(r["cells"][0]["counts"]["deadlock"], 1);
    EXPECT_TRUE(r["cells"][0]["runs"][0].contains("time_to_verdict_ms"));

    EXPECT_EQ(testing::run_hangar({"exec", "--", TREE_MAKER, "exit", "0"}, dir.path(), {}, false).exit_code, 0);
    EXPECT_EQ(testing::run_hangar({"exec", "--", TREE_MAKER, "exit", "3"}, dir.path(), {}, false).exit_code, 1);
    EXPECT_EQ(testing::run_hangar({"exec", "--", TREE_MAKER, "signal", "11"}, dir.path(), {}, false).exit_code, 1);
    Finished missing = testing::run_hangar({"exec", "--", "/nonexistent/cmd"}, dir.path(), {}, false);
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_EQ(lines(missing.err), 1);
}

}  // namespace
}  // namespace hangar

namespace hangar {
namespace {

TEST(Cli, UntilHangStopsACellAtItsFirstHang) {
    TempDir dir;
    Finished f = testing::run_hangar(
        {"run", "fixture/hangs", "--repeat", "5", "--until-hang", "--timeout", "0.3", "-j", "1", "--json", "r.json"},
        dir.path());
    EXPECT_EQ(f.exit_code, 0) << f.err;
    nlohmann::json r = read_json(dir.path() / "r.json");
    ASSERT_EQ(r["cells"].size(), 1u);
    EXPECT_EQ(r["cells"][0]["runs"].size(), 1u);
    EXPECT_EQ(r["cells"][0]["hang_rate"], 1.0);
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(r["cells"][0]["runs"][0]["evidence"]) / "evidence"));
}

}  // namespace
}  // namespace hangar

namespace hangar {
namespace {

// The rr plumbing, with a stand-in recorder: real rr needs performance counters that
// this kind of machine does not have.
TEST(Rr, KeepsTracesOfHangsOnlyAndPrintsHowToReplayThem) {
    TempDir dir;
    Finished f = testing::run_hangar({"run", "fixture/passes", "fixture/hangs", "--method", "fork", "--rr", "--timeout",
                                      "0.3", "-j", "1", "--json", "r.json"},
                                     dir.path(), {std::string("HANGAR_RR=") + FAKE_RR});
    ASSERT_EQ(f.exit_code, 0) << f.err;
    nlohmann::json r = read_json(dir.path() / "r.json");
    ASSERT_EQ(r["cells"].size(), 2u);
    const auto& pass = r["cells"][0]["runs"][0];
    EXPECT_FALSE(pass["rr"].contains("trace"));
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(pass["evidence"]) / "rr-trace"));
    const auto& hang = r["cells"][1]["runs"][0];
    ASSERT_TRUE(hang["rr"].contains("trace"));
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(hang["rr"]["trace"]) / "fake-trace"));
    EXPECT_NE(f.out.find(std::string(FAKE_RR) + " replay " + std::string(hang["rr"]["trace"])), std::string::npos)
        << f.out;
}

TEST(Rr, SaysWhyItIsUnavailableAndRunsOnWithoutIt) {
    TempDir dir;
    Finished f = testing::run_hangar({"run", "fixture/passes", "--rr", "-j", "1", "--json", "r.json"}, dir.path(),
                                     {std::string("HANGAR_RR=") + FAKE_RR, "FAKE_RR_FAIL=1"});
    ASSERT_EQ(f.exit_code, 0) << f.err;
    EXPECT_NE(f.out.find("rr unavailable: fake rr has no counters here (2 runs unrecorded)"), std::string::npos) << f.out;
    nlohmann::json r = read_json(dir.path() / "r.json");
    for (const auto& cell : r["cells"])
        EXPECT_EQ(cell["runs"][0]["rr"]["note"], "rr unavailable: fake rr has no counters here");
}

}  // namespace
}  // namespace hangar

namespace hangar {
namespace {

TEST(Cli, StallDetectionAndEvidenceCanBeSwitchedOff) {
    TempDir dir;
    auto run = [&](std::vector<std::string> extra) {
        std::vector<std::string> args{"run", "fixture/pass-expected-but-hangs", "--timeout", "1", "-q", "--json", "r.json"};
        args.insert(args.end(), extra.begin(), extra.end());
        testing::run_hangar(args, dir.path());
        return read_json(dir.path() / "r.json")["cells"][0]["runs"][0];
    };
    auto detected = run({});
    EXPECT_EQ(detected["verdict"], "deadlock");
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(detected["evidence"]) / "evidence" / "proc.txt"));
    auto waited = run({"--no-stall-detection", "--no-evidence"});
    EXPECT_EQ(waited["verdict"], "timeout");
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(waited["evidence"]) / "evidence"));
}

}  // namespace
}  // namespace hangar

namespace hangar {
namespace {

TEST(Cli, ATimeoutsEvidenceSaysWhyItWasNotProvenADeadlock) {
    TempDir dir;
    testing::run_hangar({"run", "fixture/hangs", "--timeout", "0.5", "-q", "--json", "r.json"}, dir.path());
    const std::filesystem::path run = read_json(dir.path() / "r.json")["cells"][0]["runs"][0]["evidence"];
    std::string summary = testing::slurp(run / "evidence" / "summary.txt");
    // fixture/hangs pauses: a wait for a signal, which may come from outside the tree.
    EXPECT_NE(summary.find("not proven a deadlock: pid "), std::string::npos) << summary;
    EXPECT_NE(summary.find("waits for a signal, which may come from outside the tree"), std::string::npos) << summary;
}

// Slow is not stuck: a 60 s sleep under a 20 s limit is a timeout, said at once and why.
TEST(Cli, ARunThatCanOnlyOutlastItsLimitIsATimeoutSaidAtOnce) {
    TempDir dir;
    Finished slow = testing::run_hangar({"exec", "--timeout", "20", "--json", "r.json", "--", TREE_MAKER, "nap", "60000"},
                                        dir.path(), {}, false);
    EXPECT_EQ(slow.exit_code, 3) << slow.err;
    EXPECT_NE(slow.out.find("timeout after "), std::string::npos) << slow.out;
    EXPECT_NE(slow.out.find("proven: nothing can act before the 20s limit"), std::string::npos) << slow.out;
    nlohmann::json r = read_json(dir.path() / "r.json")["cells"][0]["runs"][0];
    EXPECT_LT(r["seconds"].get<double>(), 10.0);
    const std::filesystem::path run = r["evidence"];
    std::string summary = testing::slurp(run / "evidence" / "summary.txt");
    EXPECT_NE(summary.find("proven to outlast the run's limit"), std::string::npos) << summary;
}

}  // namespace
}  // namespace hangar
