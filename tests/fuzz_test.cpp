// Bounded randomised tests (a fuzzer's work, in a fixed number of steps with fixed seeds,
// so every run of the suite tries the same inputs): the parsers of what hangar reads from
// outside return a result or an error for any input, and never throw, crash or hang.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "hangar/findings.hpp"
#include "hangar/manifest.hpp"
#include "hangar/signature.hpp"
#include "hangar/text.hpp"
#include "history.hpp"
#include "html.hpp"
#include "junit.hpp"
#include "markdown.hpp"
#include "pid_watch.hpp"
#include "results_reader.hpp"

namespace hangar {
namespace {

using testing::TempDir;

// Byte-level mutations of `seed`: flips, deletions, duplications, cuts, and pieces of the
// grammar the parser expects, so that mutants get past the first line.
class Mutator {
public:
    Mutator(unsigned seed, std::vector<std::string> tokens) : rng_(seed), tokens_(std::move(tokens)) {}

    std::string mutate(std::string s) {
        const int steps = 1 + pick(8);
        for (int i = 0; i < steps; ++i) {
            const size_t at = s.empty() ? 0 : static_cast<size_t>(pick(static_cast<int>(s.size())));
            switch (pick(6)) {
                case 0: if (!s.empty()) s[at] = static_cast<char>(pick(256)); break;
                case 1: if (!s.empty()) s.erase(at, static_cast<size_t>(1 + pick(16))); break;
                case 2: s.insert(at, tokens_[static_cast<size_t>(pick(static_cast<int>(tokens_.size())))]); break;
                case 3: s.insert(at, s.substr(at, static_cast<size_t>(pick(64)))); break;
                case 4: s.resize(at); break;
                case 5: s.insert(at, std::string(static_cast<size_t>(pick(3000)), static_cast<char>(pick(256)))); break;
            }
        }
        return s;
    }
    int pick(int n) { return n <= 0 ? 0 : std::uniform_int_distribution<int>(0, n - 1)(rng_); }

private:
    std::mt19937 rng_;
    std::vector<std::string> tokens_;
};

constexpr int kSteps = 1500;

TEST(Fuzz, TheManifestLoaderAnswersEveryInput) {
    TempDir dir;
    const std::string seed = testing::slurp(std::filesystem::path(FIXTURE_SCENARIOS) / "fixture" / "manifest.toml");
    Mutator m(1, {"[[variant]]\n", "[variant.expect]\n", "[variant.expect_tsan]\n", "name = \"x\"\n", "= ", "\"",
                  "[", "]", "\n", "methods = [\"fork\"]\n", "fork = \"hang-rate >= nan\"\n", "entry = \"../x\"\n",
                  "repeat = 99999999999999999999\n", "\xff", "\\u0000", "'''", "{", "}", "#", "1e999"});
    std::filesystem::create_directories(dir.path() / "fixture");
    const auto file = dir.path() / "fixture" / "manifest.toml";
    for (int i = 0; i < kSteps; ++i) {
        const std::string text = m.mutate(seed);
        std::ofstream(file, std::ios::trunc) << text;
        Result<Family> family = error("not run");
        ASSERT_NO_THROW(family = load_manifest(file)) << text;
        if (!family) {
            EXPECT_EQ(family.error().message.find('\n'), std::string::npos) << family.error().message;
        }
    }
}

TEST(Fuzz, TheResultsReaderAnswersEveryInputAndEveryReportRendersWhatItReads) {
    TempDir dir;
    const std::string seed = testing::slurp(std::filesystem::path(GOLDEN_DIR) / "input.json");
    Mutator m(2, {"\"verdict\": \"", "\"method\": \"", "null", "true", "-1", "1e400", "\"\xff\"", "[]", "{}",
                  "\"runs\": [", "\"expect\": \"hang-rate >= 2\"", "\"shard\": {\"k\": 9, \"n\": 2}", ",", ":"});
    const auto file = dir.path() / "in.json";
    int read = 0;
    for (int i = 0; i < kSteps / 5; ++i) {
        std::ofstream(file, std::ios::trunc) << m.mutate(seed);
        Result<reports::LoadedResults> r = error("not run");
        ASSERT_NO_THROW(r = reports::read_results(file));
        if (!r) continue;
        ++read;
        ASSERT_NO_THROW({
            reports::render_junit(r->cells, r->context);
            reports::render_markdown(r->cells, r->context);
            reports::render_html(r->cells, r->context, dir.path(), {});
            reports::json_text(reports::results_to_json(r->cells, r->context));
        });
    }
    EXPECT_GT(read, 0) << "no mutant was readable: the test tried nothing past the parser";
}

TEST(Fuzz, TheHistoryReaderAnswersEveryInput) {
    TempDir dir;
    const std::string seed =
        "{\"started_at\":\"a\",\"command\":\"c\",\"cells\":[{\"key\":\"f/v:fork\",\"runs\":3,\"hangs\":1,"
        "\"hang_rate\":0.3,\"hang_rate_ci95\":[0.1,0.9],\"met\":true}]}\n";
    Mutator m(3, {"\n", "{", "}", "[", "]", "\"", "null", "1e999", "\xff"});
    for (int i = 0; i < kSteps; ++i) {
        std::ofstream(dir.path() / "h.jsonl", std::ios::trunc) << m.mutate(seed + seed);
        ASSERT_NO_THROW((void)reports::read_history(dir.path() / "h.jsonl"));
    }
}

TEST(Fuzz, TheOutputParsersAnswerEveryInput) {
    const std::string findings_seed =
        "==1==ERROR: AddressSanitizer: heap-use-after-free on address 0x1\n    #0 0x4 in f a.c:1\n\n"
        "SUMMARY: AddressSanitizer: heap-use-after-free a.c:1 in f\nWARNING: ThreadSanitizer: data race (pid=2)\n"
        "a.c:1:2: runtime error: signed integer overflow\n";
    const std::string python_seed =
        "Fatal Python error: Aborted\n\nThread 0x1 (most recent call first):\n  File \"/usr/lib/python3.11/"
        "threading.py\", line 320 in wait\nCurrent thread 0x2 (most recent call first):\n  File \"x.py\", line 3 "
        "in <module>\n";
    const std::string stack_seed = "PID 1 - process\nTID 1:\n#0  0x00007f getaddrinfo\n#1  0x1 - main\nTID 2:\n#0  0x2 ??\n";
    Mutator m(4, {"\n", "WARNING: ThreadSanitizer: ", "SUMMARY: ", "    #9 0x1 in ", " runtime error: ", "TID ",
                  "#0  0x", "File \"", "\", line ", " in ", "(most recent call first):", "\xff", "_Z", "(", ")"});
    for (int i = 0; i < kSteps; ++i) {
        const std::string f = m.mutate(findings_seed), p = m.mutate(python_seed), n = m.mutate(stack_seed);
        ASSERT_NO_THROW({
            for (const auto& finding : parse_findings(f)) EXPECT_EQ(valid_utf8(finding.summary), finding.summary);
            for (const auto& stack : python_stacks(p)) (void)python_signature(stack);
            (void)native_signature(native_frames(n));
            (void)native_signature(native_frames(n, 2));
            (void)one_line(f, 100);
        });
    }
}

}  // namespace
}  // namespace hangar
