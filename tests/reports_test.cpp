// Reports as other tools read them: JUnit that validates, shards that merge into the full
// run, a history that accumulates.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <tuple>
#include <nlohmann/json.hpp>

#include "hangar/watchdog.hpp"
#include "history.hpp"
#include "pid_watch.hpp"
#include "results_reader.hpp"
#include "run_hangar.hpp"

namespace hangar {
namespace {

using testing::read_json;
using testing::TempDir;

// xmllint exits 0 only when the document is valid against the schema.
int xmllint(const std::filesystem::path& xml, const std::filesystem::path& dir) {
    CommandSpec spec;
    spec.argv = {"xmllint", "--noout", "--schema", JUNIT_XSD, xml.string()};
    spec.environment = current_environment();
    spec.stdout_path = dir / "xmllint.out";
    spec.stderr_path = dir / "xmllint.err";
    auto tree = ProcessTree::launch(spec);
    if (!tree) return -1;
    WatchOptions options;
    options.limit = std::chrono::seconds(60);
    auto w = watch(*tree, options);
    return w && w->ending.kind == Ending::Kind::exited ? w->ending.code : -1;
}

// The four reports of a fixed results file (real runs of real and fixture scenarios: met,
// missed, undecided, not applicable, sanitizer cells), byte for byte, so that a change to
// what a user reads shows up here. HANGAR_UPDATE_GOLDEN=1 rewrites the expected files.
TEST(Reports, TheFourReportsOfAFixedResultsFileStayAsTheyAre) {
    TempDir dir;
    const std::filesystem::path golden = GOLDEN_DIR;
    auto f = testing::run_hangar({"report", (golden / "input.json").string(), "--out", "out"}, dir.path());
    EXPECT_EQ(f.exit_code, 1) << f.err;  // two cells are built to miss
    const bool update = std::getenv("HANGAR_UPDATE_GOLDEN") != nullptr;
    // report.html links evidence relative to itself: how many "../" depends on where the
    // temporary folder is.
    auto rooted = [](std::string text) { return std::regex_replace(text, std::regex("(\\.\\./)+runs/"), "/runs/"); };
    for (const char* name : {"results.json", "junit.xml", "summary.md", "report.html", "table.txt"}) {
        const std::string got =
            rooted(std::string(name) == "table.txt" ? f.out : testing::slurp(dir.path() / "out" / name));
        if (update) std::ofstream(golden / name) << got;
        EXPECT_EQ(got, testing::slurp(golden / name)) << name << " differs from " << (golden / name);
    }
}

TEST(Reports, ARunWritesAllFourAndJunitValidates) {
    TempDir dir;
    auto f = testing::run_hangar({"run", "fixture/passes", "fixture/hangs", "fixture/hang-expected-but-passes",
                                  "--timeout", "0.3", "-q"},
                                 dir.path());
    EXPECT_EQ(f.exit_code, 1) << f.err;  // one cell is built to miss
    const auto latest = dir.path() / "hangar-out" / "latest";
    for (const char* name : {"results.json", "junit.xml", "summary.md", "report.html"})
        EXPECT_TRUE(std::filesystem::exists(latest / name)) << name;
    EXPECT_EQ(xmllint(latest / "junit.xml", dir.path()), 0);
    std::ifstream junit(latest / "junit.xml");
    std::string xml((std::istreambuf_iterator<char>(junit)), {});
    EXPECT_NE(xml.find("tests=\"4\" failures=\"1\""), std::string::npos) << xml;
    EXPECT_NE(xml.find("<failure type=\"no longer reproduces\""), std::string::npos) << xml;
    std::ifstream md(latest / "summary.md");
    std::string summary((std::istreambuf_iterator<char>(md)), {});
    EXPECT_NE(summary.find("## No longer reproduces"), std::string::npos) << summary;
    EXPECT_NE(summary.find("build/hangar run fixture/hang-expected-but-passes --method fork"), std::string::npos);
}

TEST(Reports, ShardsMergeIntoTheFullRun) {
    TempDir dir;
    const std::vector<std::string> matrix = {"run", "fixture/passes", "fixture/hangs", "fixture/starts-twice",
                                             "--timeout", "0.3", "-q"};
    auto with = [&](std::vector<std::string> extra) {
        auto args = matrix;
        args.insert(args.end(), extra.begin(), extra.end());
        return testing::run_hangar(args, dir.path());
    };
    ASSERT_EQ(with({"--json", "full.json"}).exit_code, 0);
    ASSERT_EQ(with({"--shard", "1/2", "--run-id", "night-1", "--json", "s1.json"}).exit_code, 0);
    ASSERT_EQ(with({"--shard", "2/2", "--run-id", "night-1", "--json", "s2.json"}).exit_code, 0);
    EXPECT_EQ(with({"--shard", "3/2"}).exit_code, 2);
    auto merged = testing::run_hangar({"report", "s1.json", "s2.json", "--out", "merged"}, dir.path());
    ASSERT_EQ(merged.exit_code, 0) << merged.err;
    auto full = read_json(dir.path() / "full.json"), m = read_json(dir.path() / "merged" / "results.json");
    EXPECT_EQ(m["totals"], full["totals"]);
    ASSERT_EQ(m["cells"].size(), full["cells"].size());
    for (size_t i = 0; i < full["cells"].size(); ++i)
        for (const char* key : {"scenario", "variant", "method", "sanitizer", "expect", "counts", "met"})
            EXPECT_EQ(m["cells"][i][key], full["cells"][i][key]) << i << " " << key;
    EXPECT_EQ(read_json(dir.path() / "s1.json")["cells"].size() + read_json(dir.path() / "s2.json")["cells"].size(),
              full["cells"].size());
}

// hangar report never merges what does not belong together: the same file twice, shards of
// two runs, a run's shards with some missing (unless asked), words it does not know.
TEST(Reports, ReportRefusesMergesThatWouldLie) {
    TempDir dir;
    auto run = [&](std::vector<std::string> extra) {
        std::vector<std::string> args = {"run", "fixture/passes", "--timeout", "0.3", "-q"};
        args.insert(args.end(), extra.begin(), extra.end());
        return testing::run_hangar(args, dir.path()).exit_code;
    };
    ASSERT_EQ(run({"--shard", "1/2", "--run-id", "a", "--json", "a1.json"}), 0);
    ASSERT_EQ(run({"--shard", "2/2", "--run-id", "b", "--json", "b2.json"}), 0);
    ASSERT_EQ(run({"--json", "whole1.json"}), 0);
    ASSERT_EQ(run({"--json", "whole2.json"}), 0);
    auto report = [&](std::vector<std::string> inputs, std::vector<std::string> extra = {}) {
        std::vector<std::string> args = {"report"};
        args.insert(args.end(), inputs.begin(), inputs.end());
        args.insert(args.end(), {"--out", "merged"});
        args.insert(args.end(), extra.begin(), extra.end());
        return testing::run_hangar(args, dir.path());
    };
    const std::vector<std::pair<std::vector<std::string>, std::string>> refused = {
        {{"whole1.json", "whole1.json"}, "holds the same results as whole1.json"},
        {{"a1.json", "b2.json"}, "mixed runs"},
        {{"a1.json"}, "shards missing: 2/2 of run a"},
        {{"a1.json", "whole1.json"}, "shards and whole runs mixed"},
    };
    for (const auto& [inputs, says] : refused) {
        auto f = report(inputs);
        EXPECT_EQ(f.exit_code, 2) << says;
        EXPECT_NE(f.err.find(says), std::string::npos) << f.err;
        EXPECT_FALSE(std::filesystem::exists(dir.path() / "merged")) << says;
    }
    EXPECT_EQ(report({"a1.json"}, {"--allow-partial"}).exit_code, 0);
    auto pooled = report({"whole1.json", "whole2.json"});  // repeated runs of the same cells pool
    EXPECT_EQ(pooled.exit_code, 0) << pooled.err;
    EXPECT_NE(pooled.out.find("pass 2/2"), std::string::npos) << pooled.out;

    for (auto [from, to, says] : {std::tuple{"\"verdict\": \"pass\"", "\"verdict\": \"exploded\"", "unknown verdict 'exploded'"},
                                  std::tuple{"\"method\": \"fork\"", "\"method\": \"teleport\"", "unknown method 'teleport'"}}) {
        std::string text = testing::slurp(dir.path() / "whole1.json");
        text.replace(text.find(from), std::string(from).size(), to);
        std::ofstream(dir.path() / "odd.json") << text;
        auto f = report({"odd.json"});
        EXPECT_EQ(f.exit_code, 2) << says;
        EXPECT_NE(f.err.find(says), std::string::npos) << f.err;
        EXPECT_NE(f.err.find("fixture/passes"), std::string::npos) << f.err;  // names the cell
    }
}

// A broken history file is found before anything runs, and a folder is not a history.
TEST(Reports, ABrokenHistoryIsRefusedBeforeTheMatrixRuns) {
    TempDir dir;
    std::ofstream(dir.path() / "h.jsonl") << "{\"started_at\": 1}\nnot json\n";
    auto f = testing::run_hangar({"run", "fixture/passes", "-q", "--history", "h.jsonl"}, dir.path());
    EXPECT_EQ(f.exit_code, 2);
    EXPECT_NE(f.err.find("h.jsonl:1"), std::string::npos) << f.err;
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "hangar-out"));
    EXPECT_EQ(testing::slurp(dir.path() / "h.jsonl"), "{\"started_at\": 1}\nnot json\n");  // not appended to
    std::filesystem::create_directory(dir.path() / "hdir");
    ASSERT_EQ(testing::run_hangar({"run", "fixture/passes", "-q", "--json", "r.json"}, dir.path()).exit_code, 0);
    auto r = testing::run_hangar({"report", "r.json", "--out", "o", "--history", "hdir"}, dir.path());
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("is a folder"), std::string::npos) << r.err;
}

TEST(Reports, ReportRejectsWhatIsNotAResultsFile) {
    TempDir dir;
    std::ofstream(dir.path() / "bad.json") << "{\"schema\": \"something/else\"}";
    auto f = testing::run_hangar({"report", "bad.json", "--out", "x"}, dir.path());
    EXPECT_EQ(f.exit_code, 2);
    EXPECT_NE(f.err.find("not a hangar results file"), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "x"));
}

TEST(Reports, HistoryAccumulatesOneLinePerRun) {
    TempDir dir;
    for (int i = 0; i < 2; ++i)
        ASSERT_EQ(testing::run_hangar({"run", "fixture/passes", "-q", "--history", "h.jsonl"}, dir.path()).exit_code, 0);
    auto history = reports::read_history(dir.path() / "h.jsonl");
    ASSERT_TRUE(history.ok()) << history.error().message;
    ASSERT_EQ(history->size(), 2u);
    ASSERT_EQ((*history)[1].cells.size(), 2u);
    EXPECT_EQ((*history)[1].cells[0].key, "fixture/passes:fork");
    std::ofstream(dir.path() / "h.jsonl", std::ios::app) << "not json\n";
    auto broken = reports::read_history(dir.path() / "h.jsonl");
    ASSERT_FALSE(broken.ok());
    EXPECT_NE(broken.error().message.find("h.jsonl:3:"), std::string::npos);
}

}  // namespace
}  // namespace hangar
