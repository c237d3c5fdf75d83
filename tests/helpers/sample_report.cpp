// sample_report SCENARIOS_DIR OUT_DIR [EXTRA_VARIANTS]: writes OUT_DIR/report.html from a
// synthetic results set, for the browser check (tests/CMakeLists.txt, label `report`) and
// for looking at the page. The cells are the real manifests' matrix (every variant x
// method x none, tsan, asan) plus EXTRA_VARIANTS (default 10) made-up native variants
// with long names; runs are drawn with a fixed seed to meet each expectation, except a
// few cells made to miss or stay undecided. Each hang or failure gets a run folder under
// OUT_DIR with evidence/summary.txt, and the page a five-entry history.
#include <cstdio>
#include <deque>
#include <fstream>
#include <random>
#include <string>

#include "history.hpp"
#include "html.hpp"

using namespace hangar;
namespace fs = std::filesystem;

namespace {

std::string signature_for(const std::string& family, std::mt19937& rng) {
    static const char* logging[] = {"logging/__init__.py:flush", "logging/__init__.py:acquire",
                                    "logger_mutex.cpp:41 > pthread_mutex_lock"};
    static const char* nss[] = {"getaddrinfo > __check_pf", "setpwent > __lll_lock_wait_private",
                                "_nss_hangarslow_getpwnam_r > pthread_mutex_lock"};
    std::uniform_int_distribution<int> pick(0, 2);
    if (std::uniform_real_distribution<>(0, 1)(rng) < 0.08) return "";  // no stack readable
    if (family == "logging-lock") return logging[pick(rng)];
    if (family == "nss-lock") return nss[pick(rng)];
    return "worker.c:" + std::to_string(100 + pick(rng)) + " > pthread_mutex_lock <held at fork>";
}

RunRecord make_run(const Cell& cell, bool hang, bool fail, int k, const fs::path& out, std::mt19937& rng) {
    RunRecord r;
    r.started_s = k * 0.4;
    r.seconds = 0.3;
    r.workflow_starts = 1;
    const Expectation& e = cell.expect;
    if (e.starts)
        r.workflow_starts = e.starts->op == Expectation::Starts::Op::eq ? e.starts->count : e.starts->count + 2;
    r.evidence = out / "hangar-out" / cell.folder() / ("run-" + std::to_string(k + 1));
    if (hang) {
        bool timeout = cell.sanitizer == Sanitizer::tsan;  // TSan's background thread hides the stall
        r.verdict = timeout ? Verdict::timeout : Verdict::deadlock;
        r.time_to_verdict_ms = timeout ? 60000 : std::lround(std::lognormal_distribution<>(5.1, 0.15)(rng));
        r.seconds = timeout ? 60 : 0.4;
        r.signature = signature_for(cell.family, rng);
    } else if (fail) {
        r.verdict = Verdict::fail;
        r.exit_code = cell.sanitizer == Sanitizer::tsan ? 66 : 1;
    } else {
        r.exit_code = 0;
    }
    if (cell.sanitizer == Sanitizer::tsan && cell.language() == Language::native &&
        std::uniform_real_distribution<>(0, 1)(rng) < 0.5)
        r.findings.push_back({"ThreadSanitizer", "data race", "data race nss/getXXent_r.c:126 in __getpwent_r", {}});
    if (hang || fail) {
        fs::create_directories(r.evidence / "evidence");
        std::ofstream(r.evidence / "evidence" / "summary.txt") << "signature: " << r.signature << "\n";
        if (k % 3 == 0) r.rr_note = "rr: not recorded (kernel.perf_event_paranoid is 3)";
    }
    return r;
}

// Runs that meet the expectation, drawn with the seed.
std::vector<RunRecord> runs_for(const Cell& cell, double hang_p, const fs::path& out, std::mt19937& rng) {
    std::vector<RunRecord> runs;
    const Expectation& e = cell.expect;
    for (int k = 0; k < cell.repeat; ++k) {
        bool hang = false, fail = false;
        switch (e.kind) {
            case Expectation::Kind::pass:
                break;
            case Expectation::Kind::fail:
                fail = true;
                break;
            case Expectation::Kind::hang:
                hang = true;
                break;
            case Expectation::Kind::not_pass:
                fail = true;
                break;
            case Expectation::Kind::any:
                break;
            case Expectation::Kind::hang_rate:
                hang = std::uniform_real_distribution<>(0, 1)(rng) < hang_p;
                break;
        }
        runs.push_back(make_run(cell, hang, fail, k, out, rng));
    }
    return runs;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: sample_report SCENARIOS_DIR OUT_DIR [EXTRA_VARIANTS]\n");
        return 2;
    }
    const fs::path out = argv[2];
    const int extra = argc > 3 ? std::stoi(argv[3]) : 10;
    fs::remove_all(out);
    fs::create_directories(out);

    Catalog catalog = load_catalog(argv[1]);
    for (const auto& e : catalog.errors) std::fprintf(stderr, "sample_report: skipped: %s\n", e.message.c_str());
    Family made_up{"made-up <&> family", "", {}, {}};
    for (int i = 0; i < extra; ++i) {
        Variant v;
        v.name = "a-rather-long-variant-name-number-" + std::to_string(i + 1);
        v.language = Language::native;
        v.methods = {Method::fork, Method::spawn, Method::forkserver};
        v.repeat = 20;
        v.expect[Method::fork] = *parse_expectation("hang-rate >= 0.3");
        v.expect[Method::spawn] = *parse_expectation("pass");
        v.expect[Method::forkserver] = *parse_expectation("pass");
        if (i == 0)
            v.by_sanitizer[Sanitizer::tsan] = {{{Method::fork, *parse_expectation("hang-rate >= 0.05")}},
                                      "TSan slows the threads <a lot> & hides stalls."};
        made_up.variants.push_back(std::move(v));
    }
    if (extra > 0) catalog.families.push_back(std::move(made_up));

    auto cells = select_cells(catalog, {.sanitizers = {Sanitizer::none, Sanitizer::tsan, Sanitizer::asan}});
    if (!cells) {
        std::fprintf(stderr, "sample_report: %s\n", cells.error().message.c_str());
        return 1;
    }
    std::mt19937 rng(20261125);
    std::vector<CellResult> results;
    for (Cell cell : *cells) {
        cell.repeat = std::min(cell.repeat, 20);
        CellResult r{cell, {}, {}};
        if (cell.applicable()) r.runs = runs_for(cell, 0.62, out, rng);
        results.push_back(std::move(r));
    }
    // What a nightly run also shows: a missed expected hang and an undecided rate.
    for (auto& r : results) {
        const Expectation& e = r.cell.expect;
        if (r.cell.applicable() && e.kind == Expectation::Kind::hang && r.cell.sanitizer == Sanitizer::asan) {
            r.runs.back() = make_run(r.cell, false, false, static_cast<int>(r.runs.size()) - 1, out, rng);
            break;
        }
    }
    for (auto& r : results) {
        if (r.cell.applicable() && r.cell.expect.stochastic() && r.cell.sanitizer == Sanitizer::none &&
            r.cell.family != "nss-lock") {
            r.runs = runs_for(r.cell, 0.0, out, rng);
            for (int k = 0; k < 5; ++k) r.runs[static_cast<size_t>(k)] = make_run(r.cell, true, false, k, out, rng);
            break;
        }
    }
    for (auto& r : results) judge_cell(r);

    reports::RunContext context;
    context.started_at = "2026-11-25T03:15:59Z";
    context.command = "hangar run --sanitizer none,tsan,asan --repeat 20 --history nightly.jsonl";
    context.environment = {{"kernel", "Linux 6.1.0-27-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1"},
                           {"glibc", "2.36"},
                           {"compiler", "g++ (Debian 12.2.0-14) 12.2.0"},
                           {"python", "/usr/bin/python3 (3.11.2)"},
                           {"cpus", 2},
                           {"note", "<script>alert(1)</script> & friends"}};
    context.complete = true;

    std::vector<reports::HistoryEntry> history;
    for (int n = 0; n < 5; ++n) {
        reports::HistoryEntry e{"2026-11-2" + std::to_string(n) + "T03:15:00Z", context.command, {}};
        for (const auto& r : results) {
            if (!r.cell.applicable() || (n == 1 && r.cell.order % 4 == 0)) continue;  // a gap
            double rate =
                std::clamp(r.hang_rate() + (n % 2 ? 0.1 : -0.1) * (r.hang_rate() > 0 && r.hang_rate() < 1), 0.0, 1.0);
            int runs = static_cast<int>(r.runs.size()), hangs = static_cast<int>(std::lround(rate * runs));
            const bool met = r.outcome() == Outcome::met;
            e.cells.push_back({r.cell.key(), runs, hangs, rate, wilson95(hangs, runs), n == 2 ? !met : met});
        }
        history.push_back(std::move(e));
    }

    std::ofstream(out / "report.html") << reports::render_html(results, context, out, history);
    std::printf("%s\n", (out / "report.html").c_str());
    return 0;
}
