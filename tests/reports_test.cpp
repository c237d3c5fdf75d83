// Reports as other tools read them: JUnit that validates, shards that merge into the full
// run, a history that accumulates.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
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
    ASSERT_EQ(with({"--shard", "1/2", "--json", "s1.json"}).exit_code, 0);
    ASSERT_EQ(with({"--shard", "2/2", "--json", "s2.json"}).exit_code, 0);
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
