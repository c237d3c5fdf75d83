// A user's own program under every start method (hangar exec --method), traced by the
// start-up hook, and hangar check: on real programs (python/tests/programs), dask included.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "pid_watch.hpp"
#include "run_hangar.hpp"

namespace hangar {
namespace {

using testing::Finished;
using testing::read_json;
using testing::TempDir;

const std::filesystem::path kPrograms = std::filesystem::path(PYTHON_DIR) / "tests" / "programs";

std::string program(const char* name) { return (kPrograms / name).string(); }

Finished exec(const TempDir& dir, std::vector<std::string> args) {
    std::vector<std::string> full = {"exec", "-q", "--json", "r.json"};
    full.insert(full.end(), args.begin(), args.end());
    return testing::run_hangar(full, dir.path());
}

nlohmann::json cell(const TempDir& dir, const std::string& method) {
    const nlohmann::json results = read_json(dir.path() / "r.json");
    for (const auto& c : results["cells"])
        if (c["method"] == method) return c;
    return nlohmann::json::object();
}

TEST(ExecMethod, AnUnguardedPoolRunsOnceUnderForkAndAgainInEveryChildUnderSpawn) {
    TempDir dir;
    Finished f = exec(dir, {"--method", "fork,spawn", "--timeout", "4", "--", "/usr/bin/python3", program("unguarded_pool.py")});
    EXPECT_EQ(f.exit_code, 3) << f.out << f.err;  // spawn never ends
    auto fork = cell(dir, "fork")["runs"][0], spawn = cell(dir, "spawn")["runs"][0];
    EXPECT_EQ(fork["verdict"], "pass");
    EXPECT_EQ(fork["workflow_starts"], 1);
    EXPECT_GE(fork["python"]["child_starts"]["fork"], 2);
    EXPECT_EQ(spawn["verdict"], "timeout");
    EXPECT_GT(spawn["workflow_starts"], 1);
    EXPECT_GE(spawn["python"]["reimporting_children"], 1);
    bool pool_line = false;
    for (const auto& l : spawn["python"]["reimported"]) pool_line |= l["line"] == 11 && l["source"] == "pool = multiprocessing.Pool(2)";
    EXPECT_TRUE(pool_line) << spawn["python"].dump(1);
    EXPECT_NE(f.out.find("under spawn, lines 4-11 of unguarded_pool.py ran again in"), std::string::npos) << f.out;
    EXPECT_NE(f.out.find("line 11 `pool = multiprocessing.Pool(2)`"), std::string::npos) << f.out;
}

TEST(ExecMethod, AGuardedPoolRunsOnceUnderEveryMethodAndMeetsItsExpectations) {
    TempDir dir;
    Finished f = exec(dir, {"--method", "fork,spawn,forkserver", "--expect", "fork=pass,spawn=pass,forkserver=pass",
                            "--", "/usr/bin/python3", program("guarded_pool.py")});
    EXPECT_EQ(f.exit_code, 0) << f.out << f.err;
    for (const char* m : {"fork", "spawn", "forkserver"}) {
        auto run = cell(dir, m)["runs"][0];
        EXPECT_EQ(run["workflow_starts"], 1) << m;
        EXPECT_EQ(run["python"]["reimporting_children"], 0) << m << run["python"].dump();  // imports and definitions only
        for (const auto& l : run["python"]["reimported"]) EXPECT_EQ(l["action"], false) << l.dump();
        EXPECT_GE(run["python"]["child_starts"][m], 1) << m << run["python"].dump();
    }
}

TEST(ExecMethod, AnUnguardedExecutorFailsUnderSpawnWithTheLineThatRanAgain) {
    TempDir dir;
    Finished f = exec(dir, {"--method", "spawn", "--expect", "spawn=not-pass", "--timeout", "20", "--",
                            "/usr/bin/python3", program("unguarded_executor.py")});
    EXPECT_EQ(f.exit_code, 0) << f.out << f.err;
    EXPECT_NE(f.out.find("ran again in"), std::string::npos) << f.out;
}

// A program that picks its own context keeps it, and the table says so: no comparison that
// did not happen.
TEST(ExecMethod, AnExplicitContextIsShownNotHidden) {
    TempDir dir;
    Finished f = exec(dir, {"--method", "spawn", "--", "/usr/bin/python3", program("explicit_fork.py")});
    EXPECT_EQ(f.exit_code, 0) << f.out << f.err;
    EXPECT_NE(f.out.find("asked spawn, but 1 child was started with fork"), std::string::npos) << f.out;
}

// The script's arguments, a folder with spaces, and the user's own sitecustomize: all as
// they would be without hangar.
TEST(ExecMethod, ArgumentsSpacesAndTheUsersOwnSitecustomizeAreKept) {
    TempDir dir;
    const auto folder = dir.path() / "my flows";
    std::filesystem::create_directories(folder);
    std::filesystem::copy_file(program("print_argv.py"), folder / "print argv.py");
    const auto log = dir.path() / "own-site.log";
    Finished f = testing::run_hangar(
        {"exec", "-q", "--json", "r.json", "--method", "spawn,fork", "--", "/usr/bin/python3", (folder / "print argv.py").string(),
         "--input", "a b.csv"},
        dir.path(), {"PYTHONPATH=" + (kPrograms / "own_site").string(), "OWN_SITE_LOG=" + log.string()});
    ASSERT_EQ(f.exit_code, 0) << f.out << f.err;
    for (const char* m : {"spawn", "fork"}) {
        auto run = cell(dir, m)["runs"][0];
        const std::string out = testing::slurp(std::filesystem::path(run["evidence"].get<std::string>()) / "stdout.txt");
        EXPECT_NE(out.find(R"({"parent": ["--input", "a b.csv"], "child": ["--input", "a b.csv"]})"), std::string::npos)
            << m << ": " << out;
    }
    // The user's sitecustomize ran once in each process: the parents, and the spawned child.
    std::ifstream in(log);
    int lines = 0;
    for (std::string line; std::getline(in, line);) ++lines;
    EXPECT_GE(lines, 3);
}

TEST(ExecMethod, BadInputIsOneLineAndExitTwo) {
    TempDir dir;
    for (auto args : std::vector<std::vector<std::string>>{
             {"exec", "--expect", "fork=hang", "--", "true"},
             {"exec", "--method", "fork", "--expect", "spawn=pass", "--", "true"},
             {"exec", "--method", "fork", "--expect", "fork=sometimes", "--", "true"},
             {"exec", "--method", "fork"},
         }) {
        Finished f = testing::run_hangar(args, dir.path());
        EXPECT_EQ(f.exit_code, 2) << args[1] << " " << f.err;
        EXPECT_EQ(std::count(f.err.begin(), f.err.end(), '\n'), 1) << f.err;
    }
}

TEST(Check, ListsUnguardedActionsWithTheFixAndWritesJson) {
    TempDir dir;
    Finished f = testing::run_hangar({"check", program("check/parsl_unguarded.py"), "--json", "c.json"}, dir.path());
    EXPECT_EQ(f.exit_code, 1) << f.err;
    EXPECT_NE(f.out.find("with parsl.load()"), std::string::npos) << f.out;
    EXPECT_NE(f.out.find("Fix: move lines"), std::string::npos) << f.out;
    auto j = read_json(dir.path() / "c.json");
    EXPECT_EQ(j["schema"], "hangar.check/1");
    EXPECT_FALSE(j["findings"].empty());
    Finished clean = testing::run_hangar({"check", program("check/parsl_guarded.py")}, dir.path());
    EXPECT_EQ(clean.exit_code, 0) << clean.out << clean.err;
}

TEST(Check, WhatIsNotAScriptIsOneLineAndExitTwo) {
    TempDir dir;
    std::ofstream(dir.path() / "broken.py") << "def f(:\n    pass\n";
    std::ofstream(dir.path() / "binary.py", std::ios::binary) << std::string("\x7f" "ELF\x02\x01\x01\x00\xff\xfe", 10);
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"check", (dir.path() / "broken.py").string()}, "broken.py:1"},
        {{"check", dir.path().string()}, "directory"},
        {{"check", (dir.path() / "binary.py").string()}, "binary.py"},
        {{"check", (dir.path() / "missing.py").string()}, "missing.py"},
        {{"--python", "/bin/true", "check", (dir.path() / "broken.py").string()}, "not a Python 3 interpreter"},
    };
    for (const auto& [args, says] : cases) {
        Finished f = testing::run_hangar(args, dir.path());
        EXPECT_EQ(f.exit_code, 2) << says << ": " << f.out << f.err;
        EXPECT_EQ(std::count(f.err.begin(), f.err.end(), '\n'), 1) << f.err;
        EXPECT_NE(f.err.find(says), std::string::npos) << f.err;
    }
}

// dask starts its workers with spawn whatever is asked: a real re-import failure that no one
// here wrote. Unguarded, the worker's re-run starts a cluster of its own and the nanny
// restarts it forever; guarded, the workflow runs once.
TEST(Dask, AnUnguardedLocalClusterRunsAgainInItsWorkersAndTheGuardedOneOnce) {
    TempDir dir;
    Finished f = exec(dir, {"--method", "fork", "--timeout", "15", "--", "/usr/bin/python3", program("dask_unguarded.py")});
    EXPECT_EQ(f.exit_code, 3) << f.out << f.err;
    auto run = cell(dir, "fork")["runs"][0];
    EXPECT_GE(run["python"]["child_starts"]["spawn"], 1) << run["python"].dump();
    EXPECT_NE(f.out.find("asked fork, but"), std::string::npos) << f.out;
    bool cluster_line = false;
    for (const auto& l : run["python"]["reimported"])
        cluster_line |= l["source"].get<std::string>().rfind("cluster = LocalCluster(", 0) == 0;
    EXPECT_TRUE(cluster_line) << run["python"].dump(1);
    Finished checked = testing::run_hangar({"check", program("dask_unguarded.py")}, dir.path());
    EXPECT_EQ(checked.exit_code, 1) << checked.out;
    TempDir guarded;
    Finished g = exec(guarded, {"--method", "fork", "--expect", "fork=pass, starts == 1", "--timeout", "60", "--",
                                "/usr/bin/python3", program("dask_guarded.py")});
    EXPECT_EQ(g.exit_code, 0) << g.out << g.err;
}

}  // namespace
}  // namespace hangar
