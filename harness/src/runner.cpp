#include "hangar/runner.hpp"

#include <atomic>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "hangar/findings.hpp"
#include "hangar/pid_namespace.hpp"
#include "hangar/text_file.hpp"
#include "hangar/watchdog.hpp"

namespace hangar {
namespace {

constexpr std::string_view kWorkflowStart = "HANGAR-WORKFLOW-START";

int count_occurrences(const std::filesystem::path& file, std::string_view needle) {
    std::error_code ec;
    if (std::filesystem::file_size(file, ec) == 0 || ec) return 0;  // most runs print nothing
    std::ifstream in(file, std::ios::binary);
    constexpr size_t kChunk = 1 << 16;
    std::unique_ptr<char[]> chunk(new char[kChunk]);  // not zeroed: read() fills it
    std::string text;
    int count = 0;
    while (in.read(chunk.get(), kChunk) || in.gcount() > 0) {
        text.append(chunk.get(), static_cast<size_t>(in.gcount()));
        for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + needle.size()))
            ++count;
        // Keep a tail shorter than the needle, so a match split across chunks is seen once.
        text.erase(0, text.size() >= needle.size() ? text.size() - needle.size() + 1 : 0);
    }
    return count;
}

// `ns`: this worker thread's namespace, created on its first run and again if its reaper died.
RunRecord run_once(const Cell& cell, int run, const RunnerConfig& config, bool& interrupted, double started_s,
                   std::optional<PidNamespace>& ns) {
    RunRecord record;
    record.started_s = started_s;
    record.evidence = evidence_dir(cell, run, config);
    std::error_code ec;
    std::filesystem::create_directories(record.evidence, ec);  // each session's folders are new
    auto spec = command_for(cell, config, record.evidence);
    const auto trace_dir = record.evidence / "rr-trace";
    if (spec && config.recorder) {
        if (config.recorder->available) spec->argv = config.recorder->wrap(spec->argv, trace_dir);
        else record.rr_note = "rr unavailable: " + config.recorder->reason;
    }
    auto fail_to_start = [&](const Error& e) {
        std::ofstream(record.evidence / "harness-error.txt") << e.message << "\n";
        record.verdict = Verdict::fail;
        return record;
    };
    if (!spec) return fail_to_start(spec.error());
    auto fresh_namespace = [&]() -> Status {
        auto created = PidNamespace::create();
        if (!created) return created.error();
        ns.emplace(std::move(*created));
        return {};
    };
    if (!ns || !ns->usable())
        if (auto made = fresh_namespace(); !made) return fail_to_start(made.error());
    auto tree = ProcessTree::launch(*spec, *ns);
    // A reaper that died since the last run shows only now; that is no reason to fail a run.
    if (!tree && !ns->usable()) {
        if (auto made = fresh_namespace(); !made) return fail_to_start(made.error());
        tree = ProcessTree::launch(*spec, *ns);
    }
    if (!tree) return fail_to_start(tree.error());
    WatchOptions options;
    options.limit = config.limit;
    options.interrupt = config.interrupt;
    StallDetector detector(config.stall);
    if (config.detect_stalls) options.stall = &detector;
    if (config.capture_evidence) {
        options.before_kill = [&](ProcessTree& t) {
            EvidenceOptions evidence = config.evidence;
            if (detector.onset()) evidence.wedged_pid = detector.last().wedged_pid;
            else if (config.detect_stalls) evidence.not_a_deadlock_because = detector.last().reason;
            Evidence e = capture_evidence(t.root_pid(), record.evidence / "evidence", spec->stdout_path,
                                          spec->stderr_path, evidence);
            record.signature = e.signature;
        };
    }
    auto watched = watch(*tree, options);
    if (!watched) return fail_to_start(watched.error());
    interrupted = watched->interrupted;
    record.seconds = static_cast<double>(watched->elapsed.count()) / 1000.0;
    record.verdict = classify(watched->ending);
    if (watched->ending.kind == Ending::Kind::exited) record.exit_code = watched->ending.code;
    if (watched->ending.kind == Ending::Kind::signaled) record.signal = watched->ending.code;
    if (is_hang(record.verdict)) record.time_to_verdict_ms = watched->time_to_verdict.count();
    record.workflow_starts = count_occurrences(record.evidence / "stdout.txt", kWorkflowStart) +
                             count_occurrences(record.evidence / "stderr.txt", kWorkflowStart);
    if (config.recorder && config.recorder->available) {
        // Only what went wrong is worth its disk: a passing run's trace goes.
        if (record.verdict == Verdict::pass) {
            std::filesystem::remove_all(trace_dir, ec);
            record.rr_note = "recorded; deleted because the run passed";
        } else if (std::filesystem::exists(trace_dir)) {
            record.rr_trace = trace_dir.string();
            record.rr_note = config.recorder->replay_command(trace_dir);
        } else {
            record.rr_note = "rr wrote no trace";
        }
    }
    if (cell.sanitizer != "none") record.findings = parse_findings(read_text(record.evidence / "stderr.txt", 4 << 20));
    return record;
}

}  // namespace

std::string binary_name(const Cell& cell) {
    return cell.sanitizer == "none" ? cell.variant->entry : cell.variant->entry + "-" + cell.sanitizer;
}

std::filesystem::path evidence_dir(const Cell& cell, int run, const RunnerConfig& config) {
    std::string method(to_string(cell.method));
    if (cell.sanitizer != "none") method += "-" + cell.sanitizer;
    return config.evidence_root / cell.family->name / cell.variant->name / method / ("run-" + std::to_string(run));
}

Result<CommandSpec> command_for(const Cell& cell, const RunnerConfig& config, const std::filesystem::path& evidence) {
    CommandSpec spec;
    const Variant& v = *cell.variant;
    if (!v.command.empty()) {
        spec.argv = v.command;
    } else {
        if (v.language == Language::python) spec.argv = {config.python.string(), (cell.family->dir / v.entry).string()};
        else spec.argv = {(config.scenario_bin_dir / binary_name(cell)).string()};
        spec.argv.insert(spec.argv.end(), v.args.begin(), v.args.end());
        spec.argv.push_back("--method");
        spec.argv.push_back(std::string(to_string(cell.method)));
    }
    spec.environment = current_environment();
    // Scenario folders may be read-only; bytecode caches would also make the first run of
    // a cell slower than the others.
    spec.environment.push_back("PYTHONDONTWRITEBYTECODE=1");
    // Lets evidence capture get every thread's Python stack with one SIGABRT.
    spec.environment.push_back("PYTHONFAULTHANDLER=1");
    spec.stdout_path = evidence / "stdout.txt";
    spec.stderr_path = evidence / "stderr.txt";
    return spec;
}

Status check_runnable(const std::vector<Cell>& cells, const RunnerConfig& config) {
    for (const auto& cell : cells) {
        const Variant& v = *cell.variant;
        if (!cell.applicable()) continue;
        if (!v.command.empty()) {
            if (auto p = find_program(v.command.front()); !p) return p.error();
        } else if (v.language == Language::python) {
            if (auto p = find_program(config.python.string()); !p)
                return error("python interpreter unusable: " + p.error().message + " (choose one with --python)");
            auto script = cell.family->dir / v.entry;
            if (!std::filesystem::is_regular_file(script))
                return error("scenario " + cell.scenario_id() + ": script " + script.string() + " is missing");
        } else {
            auto binary = config.scenario_bin_dir / binary_name(cell);
            if (access(binary.c_str(), X_OK) != 0)
                return error("scenario " + cell.scenario_id() + ": binary " + binary.string() +
                             " is not built (run: cmake --build build)");
        }
    }
    return {};
}

Result<std::vector<CellResult>> run_cells(const std::vector<Cell>& cells, const RunnerConfig& config,
                                          RunObserver& observer) {
    struct Task {
        size_t cell;
        int run;
    };
    std::vector<Task> tasks;
    for (size_t c = 0; c < cells.size(); ++c)
        if (cells[c].applicable())
            for (int r = 1; r <= cells[c].repeat; ++r) tasks.push_back({c, r});

    std::vector<CellResult> results(cells.size());
    std::vector<int> runs_done(cells.size(), 0);  // finished or skipped
    std::vector<bool> finished(cells.size(), false), stopped(cells.size(), false);
    const auto epoch = std::chrono::steady_clock::now();
    for (size_t c = 0; c < cells.size(); ++c) {
        results[c].cell = cells[c];
        results[c].runs.resize(static_cast<size_t>(cells[c].repeat));
    }

    std::atomic<size_t> next{0};
    std::atomic<bool> stop{false};
    std::mutex mutex;  // guards results, runs_done, finished, stopped and observer calls
    auto finish = [&](size_t c) {
        // In run order, without the records of runs --until-hang skipped.
        std::erase_if(results[c].runs, [](const RunRecord& r) { return r.evidence.empty(); });
        judge_cell(results[c]);
        finished[c] = true;
        observer.cell_finished(results[c]);
    };
    auto worker = [&] {
        std::optional<PidNamespace> ns;  // dies with this thread's last run
        for (;;) {
            if (stop || (config.interrupt && config.interrupt->requested())) return;
            size_t i = next++;
            if (i >= tasks.size()) return;
            const Task& t = tasks[i];
            CellResult& cell = results[t.cell];
            {
                std::lock_guard lock(mutex);
                if (stopped[t.cell]) {  // --until-hang: the cell already has its hang
                    if (++runs_done[t.cell] == cells[t.cell].repeat) finish(t.cell);
                    continue;
                }
                observer.run_started(cells[t.cell], t.run);
            }
            bool interrupted = false;
            const double started_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch).count();
            RunRecord record;
            try {
                record = run_once(cells[t.cell], t.run, config, interrupted, started_s, ns);
            } catch (const std::exception& e) {
                // A harness bug must not take the other runs down: the run fails, saying why.
                record.evidence = evidence_dir(cells[t.cell], t.run, config);
                record.verdict = Verdict::fail;
                std::ofstream(record.evidence / "harness-error.txt") << "harness error: " << e.what() << "\n";
            }
            if (interrupted) {
                stop = true;
                return;
            }
            std::lock_guard lock(mutex);
            cell.runs[static_cast<size_t>(t.run - 1)] = record;
            ++runs_done[t.cell];
            if (config.until_hang && is_hang(record.verdict)) stopped[t.cell] = true;
            observer.run_finished(cells[t.cell], record);
            if (runs_done[t.cell] == cells[t.cell].repeat) finish(t.cell);
        }
    };
    for (size_t c = 0; c < cells.size(); ++c)
        if (!cells[c].applicable()) finish(c);  // listed with its reason, never run
    int jobs = std::max(1, std::min<int>(config.jobs, static_cast<int>(tasks.size())));
    std::vector<std::thread> threads;
    for (int j = 1; j < jobs; ++j) threads.emplace_back(worker);
    worker();
    for (auto& t : threads) t.join();

    std::vector<CellResult> done;
    for (size_t c = 0; c < cells.size(); ++c)
        if (finished[c]) done.push_back(std::move(results[c]));
    return done;
}

}  // namespace hangar
