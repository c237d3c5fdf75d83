// What users and their programs throw at hangar: floods of output, bytes that are not text,
// runs cut short at every moment, interrupts in the middle of evidence. hangar never hangs,
// crashes or grows without bound, and every report it writes stays readable.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>

#include "hangar/findings.hpp"
#include "hangar/signature.hpp"
#include "hangar/text.hpp"
#include "pid_watch.hpp"
#include "run_hangar.hpp"

namespace hangar {
namespace {

using testing::Finished;
using testing::read_json;
using testing::TempDir;

std::filesystem::path only_run(const TempDir& dir) {
    return read_json(dir.path() / "hangar-out" / "latest" / "results.json")["cells"][0]["runs"][0]["evidence"]
        .get<std::string>();
}

TEST(Hostile, AFloodOfOutputIsKeptWithinTheLimitWithItsTail) {
    TempDir dir;
    Finished f = testing::run_hangar({"exec", "--max-output", "64K", "--", TREE_MAKER, "flood", "50000000", "stdout"},
                                     dir.path());
    ASSERT_EQ(f.exit_code, 0) << f.err;
    const auto run = only_run(dir);
    EXPECT_LE(std::filesystem::file_size(run / "stdout.txt"), 64u * 1024 + 512);
    const std::string kept = testing::slurp(run / "stdout.txt");
    EXPECT_NE(kept.find("bytes cut here: the stream was 50000000 bytes"), std::string::npos);
    EXPECT_EQ(kept.substr(kept.size() - 8), "THE END\n");
    EXPECT_FALSE(std::filesystem::exists(run / "stdout.txt.tail"));
    auto record = read_json(dir.path() / "hangar-out" / "latest" / "results.json")["cells"][0]["runs"][0];
    EXPECT_EQ(record["output_cut"]["stdout_bytes"], 50000000);
    EXPECT_EQ(record["output_cut"]["kept_per_stream"], 64 * 1024);
    // 50 MB went through hangar; what it holds is a buffer, not the stream.
    EXPECT_LT(f.max_rss_kb, 40 * 1024) << "hangar's peak memory, KiB";
}

TEST(Hostile, AFloodThenAHangKeepsTheEvidenceSmall) {
    TempDir dir;
    Finished f = testing::run_hangar(
        {"exec", "--max-output", "1M", "--timeout", "30", "--", TREE_MAKER, "flood", "30000000", "stderr", "then-wedge"},
        dir.path());
    ASSERT_EQ(f.exit_code, 3) << f.err;  // a hang
    const auto run = only_run(dir);
    EXPECT_LE(std::filesystem::file_size(run / "stderr.txt"), 1024u * 1024 + 512);
    EXPECT_LT(std::filesystem::file_size(run / "evidence" / "summary.txt"), 256u * 1024);
    EXPECT_LT(f.max_rss_kb, 40 * 1024) << "hangar's peak memory, KiB";
}

TEST(Hostile, BytesThatAreNotTextNeverBreakAReport) {
    TempDir dir;
    // In the command's arguments (its name is the cell's variant), in the --out path, and
    // in what it prints.
    const std::string weird = "na\xff\xfeme\x1b[2J\n";
    Finished f = testing::run_hangar({"exec", "--out", "out\xff", "--", TREE_MAKER, "echo", weird}, dir.path());
    ASSERT_EQ(f.exit_code, 0) << f.err;
    EXPECT_EQ(f.out.find('\x1b'), std::string::npos) << "no terminal escape reaches hangar's own output";
    auto results = read_json(dir.path() / "out\xff" / "latest" / "results.json");  // parses: valid JSON
    EXPECT_NE(results["command"].get<std::string>().find("\xEF\xBF\xBD"), std::string::npos);
    Finished g = testing::run_hangar({"exec", "--", TREE_MAKER, "garbage"}, dir.path());
    ASSERT_EQ(g.exit_code, 0) << g.err;
}

TEST(Hostile, SanitizerReportsFullOfGarbageAndHugeLinesAreParsedBoundedly) {
    std::string huge(100 * 1024, 'A');
    std::string text = "==1==ERROR: AddressSanitizer: heap-use-after-free \xff\xfe on address 0x1\n"
                       "    #0 0x4 in f\xc3\x28oo /src/\x1b[2Ja.c:1\n\n"
                       "SUMMARY: AddressSanitizer: heap-use-after-free \xff a.c:1 in f\n"
                       "WARNING: ThreadSanitizer: data race " + huge + "\n" + huge + " runtime error: " + huge + "\n";
    for (int i = 0; i < 3000; ++i) text += "WARNING: ThreadSanitizer: data race (pid=1)\n";
    auto findings = parse_findings(text);
    ASSERT_GE(findings.size(), 2u);
    EXPECT_LE(findings.size(), 1000u);  // a looping program's reports are counted up to a bound
    for (const auto& f : findings) {
        for (const std::string* s : {&f.tool, &f.kind, &f.summary}) {
            EXPECT_EQ(valid_utf8(*s), *s);
            EXPECT_LT(s->size(), 4096u);
            EXPECT_EQ(s->find('\x1b'), std::string::npos);
        }
    }
    // The faulthandler and stack readers take the same lines.
    EXPECT_NO_THROW(python_stacks("Current thread 0x1 (most recent call first):\n  File \"" + huge +
                                  "\", line 99999999999999999999 in f\n"));
    EXPECT_NO_THROW(native_frames("TID 1:\n#0  0x1 " + huge + "\n"));
}

TEST(Hostile, TheShortestTimeoutNeverStopsARunThatIsStillStarting) {
    // The freeze for evidence once stopped a child still inside the reaper's vfork, and
    // hangar then waited on the reaper for good.
    TempDir dir;
    const auto start = std::chrono::steady_clock::now();
    Finished f = testing::run_hangar({"run", "fixture/hangs", "fixture/passes", "--repeat", "20", "-j", "2",
                                      "--timeout", "0.001", "-q"},
                                     dir.path());
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(120));
    EXPECT_NE(f.exit_code, -1) << f.err;
    EXPECT_NE(f.out.find("fixture/hangs"), std::string::npos) << f.out << f.err;
}

// SIGINT while evidence capture waits on a stuck debugger: hangar ends at once (not when
// the debugger's own limit is up), keeps what finished and leaves no process behind.
TEST(Hostile, AnInterruptDuringEvidenceEndsHangarAtOnce) {
    TempDir dir, tools;
    for (const char* name : {"eu-stack", "gdb"}) std::filesystem::create_symlink(STUCK_TOOL, tools.path() / name);
    testing::PidReports reports;
    const std::string path = "PATH=" + tools.path().string() + ":" + std::getenv("PATH");
    pid_t hangar = testing::start_hangar({"run", "fixture/pass-expected-but-hangs", "--timeout", "60", "--json",
                                          "r.json", "-q"},
                                         dir.path(), {reports.env(), path});
    auto tool = reports.read_pidfds(1);  // evidence capture has reached the stuck debugger
    ASSERT_EQ(tool.size(), 1u);
    const auto sent = std::chrono::steady_clock::now();
    kill(hangar, SIGINT);
    Finished f = testing::wait_hangar(hangar, dir.path());
    EXPECT_LT(std::chrono::steady_clock::now() - sent, std::chrono::seconds(3)) << "a stuck debugger waits 5 s";
    EXPECT_EQ(f.exit_code, 130) << f.err;
    EXPECT_TRUE(testing::ended_within(tool[0], 5000));
    EXPECT_EQ(read_json(dir.path() / "r.json")["complete"], false);
}

TEST(Hostile, OutLatestThatIsNotHangarsLinkIsRefusedBeforeAnythingRuns) {
    TempDir dir;
    std::filesystem::create_directories(dir.path() / "hangar-out" / "latest");
    Finished f = testing::run_hangar({"run", "fixture/passes", "-q"}, dir.path());
    EXPECT_EQ(f.exit_code, 2);
    EXPECT_NE(f.err.find("latest is not hangar's link"), std::string::npos) << f.err;
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path() / "hangar-out"), {}), 1);
}

// --isolate: the run sees a read-only machine with a /tmp of its own, and has no
// capabilities, so even as root it cannot write outside it or unmount its /proc.
TEST(Hostile, AnIsolatedRunCannotChangeTheMachine) {
    TempDir dir;
    const std::string mark = (dir.path() / "written-by-the-run").string();
    Finished f = testing::run_hangar(
        {"exec", "--isolate", "--", "/bin/sh", "-c",
         "touch /tmp/ok && echo tmp-ok; touch " + mark + " || echo write-refused; umount /proc || echo umount-refused; "
         "grep CapEff /proc/self/status"},
        dir.path());
    ASSERT_EQ(f.exit_code, 0) << f.err;
    const std::string out = testing::slurp(only_run(dir) / "stdout.txt");
    EXPECT_NE(out.find("tmp-ok"), std::string::npos) << out;
    EXPECT_NE(out.find("write-refused"), std::string::npos) << out;
    EXPECT_NE(out.find("umount-refused"), std::string::npos) << out;
    EXPECT_NE(out.find("CapEff:\t0000000000000000"), std::string::npos) << out;
    EXPECT_FALSE(std::filesystem::exists(mark));
}

}  // namespace
}  // namespace hangar
