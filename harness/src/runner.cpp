#include "hangar/runner.hpp"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include "hangar/events.hpp"
#include "hangar/findings.hpp"
#include "hangar/output.hpp"
#include "hangar/pid_namespace.hpp"
#include "hangar/text.hpp"
#include "hangar/text_file.hpp"
#include "hangar/watchdog.hpp"

namespace hangar {
namespace {

constexpr std::string_view kWorkflowStart = "HANGAR-WORKFLOW-START";

// A run that could not start: failed, saying why in its folder.
RunRecord failed_to_start(RunRecord record, const Error& e) {
    std::ofstream(record.evidence / "harness-error.txt") << e.message << "\n";
    record.verdict = Verdict::fail;
    return record;
}

// This worker thread's namespace: created on its first run, and again if its reaper died.
Status ensure_namespace(std::optional<PidNamespace>& ns, bool isolate) {
    if (ns && ns->usable()) return {};
    auto created = PidNamespace::create(isolate);
    if (!created) return created.error();
    ns.emplace(std::move(*created));
    return {};
}

Result<ProcessTree> launch_in(const CommandSpec& spec, std::optional<PidNamespace>& ns, bool isolate) {
    if (auto s = ensure_namespace(ns, isolate); !s) return s.error();
    auto tree = ProcessTree::launch(spec, *ns);
    // A reaper that died since the last run shows only now; that is no reason to fail a run.
    if (!tree && !ns->usable()) {
        if (auto s = ensure_namespace(ns, isolate); !s) return s.error();
        tree = ProcessTree::launch(spec, *ns);
    }
    return tree;
}

// Evidence of a hung tree, still alive: the signature names where it waits.
std::string take_evidence(ProcessTree& tree, const StallDetector& detector, const RunnerConfig& config,
                          Verdict record_verdict, RunOutput& output, const std::filesystem::path& run_dir) {
    EvidenceOptions options = config.evidence;
    options.interrupt = config.interrupt;
    if (detector.window()) options.window = *detector.window();
    options.proven_deadlock = record_verdict == Verdict::deadlock;
    if (!options.proven_deadlock && config.detect_stalls) options.not_a_deadlock_because = detector.last().reason;
    return one_line(capture_evidence(tree.root_pid(), run_dir / "evidence", output, options).signature, 300);
}

// Sets NAME to `value` before what the environment already has in it (LD_PRELOAD, PYTHONPATH).
void prepend_env(std::vector<std::string>& env, const std::string& name, const std::string& value, char separator) {
    const std::string prefix = name + "=";
    for (auto& e : env)
        if (e.rfind(prefix, 0) == 0) {
            e = prefix + value + (e.size() > prefix.size() ? std::string(1, separator) + e.substr(prefix.size()) : "");
            return;
        }
    env.push_back(prefix + value);
}

// What the detector saw.
RunRecord::Hazards read_hazards(const Cell& cell, RunEvents events, const std::filesystem::path& events_file) {
    RunRecord::Hazards h;
    if (cell.sanitizer != Sanitizer::none) {
        h.note = "not checked under " + std::string(to_string(cell.sanitizer)) +
                 ": the sanitizer's runtime must be the first library loaded";
        return h;
    }
    h.checked = !events.forkwatch_pids.empty();
    if (!h.checked)
        h.note = "the detector did not load in any process of the run (a statically linked or setuid program "
                 "ignores LD_PRELOAD)";
    for (const auto& u : events.unavailable) h.note += (h.note.empty() ? "" : "; ") + u;
    h.forks = events.hazard_forks;
    h.shown = std::move(events.forks);
    name_frames(h.shown, events_file.parent_path());
    return h;
}

// What the run's events file says, once the tree is gone: the detector's hazards (with
// --hazards) and the Python hook's trace (where it ran).
void read_run_events(RunRecord& record, const Cell& cell, const RunnerConfig& config) {
    const auto file = record.evidence / "events.jsonl";
    const bool hazards = !config.forkwatch.empty();
    if (!hazards && !cell.launch.python_hook) return;
    RunEvents events = read_events(file);
    if (!events.hook_pids.empty()) {
        RunRecord::PythonTrace t;
        t.processes = static_cast<int>(events.hook_pids.size());
        t.main_runs = events.main_runs;
        t.child_starts = events.child_starts;
        t.reimporting_children = events.reimporting_children;
        t.reimported = events.reimported;
        // A script says where its workflow starts by printing the marker; without one, the
        // workflow starts where the main script runs, and again in each child that re-runs
        // one of its action lines.
        if (record.workflow_starts == 0) record.workflow_starts = t.main_runs + t.reimporting_children;
        record.python = std::move(t);
    }
    if (hazards) record.hazards = read_hazards(cell, std::move(events), file);
}

// What the run printed, once its tree is gone: counts, and whether it was cut.
void record_output(RunRecord& record, RunOutput& output, const RunnerConfig& config) {
    output.finish(std::chrono::seconds(config.interrupt && config.interrupt->requested() ? 1 : 5));
    record.workflow_starts = output.out().markers() + output.err().markers();
    if (output.out().cut() || output.err().cut())
        record.output_cut = RunRecord::OutputCut{output.out().total(), output.err().total(), config.max_output};
}

void record_ending(RunRecord& record, const Watched& watched) {
    record.seconds = static_cast<double>(watched.elapsed.count()) / 1000.0;
    record.verdict = classify(watched.ending);
    if (watched.ending.kind == Ending::Kind::exited) record.exit_code = watched.ending.code;
    if (watched.ending.kind == Ending::Kind::signaled) record.signal = watched.ending.code;
    if (is_hang(record.verdict)) record.time_to_verdict_ms = watched.time_to_verdict.count();
}

// Only what went wrong is worth its disk: a passing run's trace goes.
void settle_trace(RunRecord& record, const Recorder& recorder, const std::filesystem::path& trace_dir) {
    std::error_code ec;
    if (record.verdict == Verdict::pass) {
        std::filesystem::remove_all(trace_dir, ec);
        record.rr_note = "recorded; deleted because the run passed";
    } else if (std::filesystem::exists(trace_dir)) {
        record.rr_trace = trace_dir.string();
        record.rr_note = recorder.replay_command(trace_dir);
    } else {
        record.rr_note = "rr wrote no trace";
    }
}

// One run of `cell`, in this worker's namespace `ns`. `interrupted` is set when an
// interrupt ended it (its record is then no result).
RunRecord run_once(const Cell& cell, int run, const RunnerConfig& config, bool& interrupted, double started_s,
                   std::optional<PidNamespace>& ns) {
    RunRecord record;
    record.started_s = started_s;
    record.evidence = evidence_dir(cell, run, config);
    std::error_code ec;
    std::filesystem::create_directories(record.evidence, ec);  // each session's folders are new
    auto spec = command_for(cell, config, record.evidence);
    if (!spec) return failed_to_start(record, spec.error());
    auto output = RunOutput::start(spec->stdout_path, spec->stderr_path, config.max_output, kWorkflowStart);
    if (!output) return failed_to_start(record, output.error());
    spec->stdout_fd = (*output)->stdout_fd();
    spec->stderr_fd = (*output)->stderr_fd();
    const auto trace_dir = record.evidence / "rr-trace";
    const bool recording = config.recorder && config.recorder->available;
    if (recording) spec->argv = config.recorder->wrap(spec->argv, trace_dir);
    else if (config.recorder) record.rr_note = "rr unavailable: " + config.recorder->reason;

    auto tree = launch_in(*spec, ns, config.isolate);
    (*output)->launched();
    if (!tree) return failed_to_start(record, tree.error());
    StallDetector detector(config.stall);
    WatchOptions options{config.limit, config.interrupt, config.detect_stalls ? &detector : nullptr};
    auto watched = watch(*tree, options);
    if (!watched) return failed_to_start(record, watched.error());
    interrupted = watched->interrupted;
    record_ending(record, *watched);
    if (is_hang(record.verdict) && config.capture_evidence)
        record.signature = take_evidence(*tree, detector, config, record.verdict, **output, record.evidence);
    tree->kill();

    record_output(record, **output, config);
    read_run_events(record, cell, config);
    if (recording) settle_trace(record, *config.recorder, trace_dir);
    if (cell.sanitizer != Sanitizer::none)
        record.findings = parse_findings(read_text(spec->stderr_path, config.max_output + 4096));
    return record;
}

}  // namespace

std::filesystem::path evidence_dir(const Cell& cell, int run, const RunnerConfig& config) {
    return config.evidence_root / cell.folder() / ("run-" + std::to_string(run));
}

Result<CommandSpec> command_for(const Cell& cell, const RunnerConfig& config, const std::filesystem::path& evidence) {
    CommandSpec spec;
    const Launch& l = cell.launch;
    if (!l.command.empty()) {
        spec.argv = l.command;
    } else {
        if (l.language == Language::python) spec.argv = {config.python.string(), l.script.string()};
        else spec.argv = {(config.scenario_bin_dir / l.binary).string()};
        spec.argv.insert(spec.argv.end(), l.args.begin(), l.args.end());
        spec.argv.push_back("--method");
        spec.argv.push_back(std::string(to_string(cell.method)));
    }
    spec.environment = current_environment();
    // Scenario folders may be read-only; bytecode caches would also make the first run of
    // a cell slower than the others.
    spec.environment.push_back("PYTHONDONTWRITEBYTECODE=1");
    // Lets evidence capture get every thread's Python stack with one SIGABRT.
    spec.environment.push_back("PYTHONFAULTHANDLER=1");
    for (const auto& e : l.env) spec.environment.push_back(e);
    // --hazards: a sanitizer's runtime must come first in the process, so its cells run
    // without the detector (their record says so).
    const bool detector = !config.forkwatch.empty() && cell.sanitizer == Sanitizer::none;
    if (detector) prepend_env(spec.environment, "LD_PRELOAD", config.forkwatch.string(), ':');
    if (detector || l.python_hook) {
        spec.environment.push_back("HANGAR_EVENTS_FILE=" + (evidence / "events.jsonl").string());
        if (!config.python_hook.empty()) prepend_env(spec.environment, "PYTHONPATH", config.python_hook.string(), ':');
    }
    spec.stdout_path = evidence / "stdout.txt";
    spec.stderr_path = evidence / "stderr.txt";
    return spec;
}

Status check_runnable(const std::vector<Cell>& cells, const RunnerConfig& config) {
    for (const auto& cell : cells) {
        if (!cell.applicable()) continue;
        const Launch& l = cell.launch;
        const std::string scenario = "scenario " + cell.scenario_id() + ": ";
        std::error_code ec;
        if (!l.command.empty()) {
            if (auto p = find_program(l.command.front()); !p) return p.error();
        } else if (l.language == Language::python) {
            if (auto p = find_program(config.python.string()); !p)
                return error("python interpreter unusable: " + p.error().message + " (choose one with --python)");
            const auto type = std::filesystem::status(l.script, ec).type();
            if (type == std::filesystem::file_type::not_found)
                return error(scenario + "script " + l.script.string() + " is missing");
            if (type != std::filesystem::file_type::regular)
                return error(scenario + "script " + l.script.string() + " is not a regular file");
        } else {
            const auto binary = config.scenario_bin_dir / l.binary;
            const auto type = std::filesystem::status(binary, ec).type();
            if (type == std::filesystem::file_type::not_found)
                return error(scenario + "binary " + binary.string() + " is not built (run: cmake --build build)");
            if (type != std::filesystem::file_type::regular)
                return error(scenario + "binary " + binary.string() + " is not a regular file");
            if (access(binary.c_str(), X_OK) != 0)
                return error(scenario + "binary " + binary.string() + " is not executable");
        }
    }
    return {};
}

namespace {

// The runs of a matrix, handed out to worker threads; cells are finished (judged and
// reported) as their last run ends.
class Schedule {
public:
    Schedule(const std::vector<Cell>& cells, const RunnerConfig& config, RunObserver& observer)
        : cells_(cells), config_(config), observer_(observer), results_(cells.size()), runs_done_(cells.size(), 0),
          finished_(cells.size(), false), stopped_(cells.size(), false) {
        for (size_t c = 0; c < cells.size(); ++c) {
            results_[c].cell = cells[c];
            results_[c].runs.resize(static_cast<size_t>(cells[c].repeat));
            if (cells[c].applicable())
                for (int r = 1; r <= cells[c].repeat; ++r) tasks_.push_back({c, r});
        }
    }

    size_t tasks() const { return tasks_.size(); }

    // Cells that never run are finished at once, listed with their reason.
    void finish_inapplicable() {
        std::lock_guard lock(mutex_);
        for (size_t c = 0; c < cells_.size(); ++c)
            if (!cells_[c].applicable()) finish(c);
    }

    // One worker thread: takes runs until none is left or the run is stopped.
    void work() {
        std::optional<PidNamespace> ns;  // dies with this thread's last run
        for (;;) {
            if (stop_ || (config_.interrupt && config_.interrupt->requested())) return;
            size_t i = next_++;
            if (i >= tasks_.size()) return;
            const Task t = tasks_[i];
            if (!begin(t)) continue;
            bool interrupted = false;
            RunRecord record = run_guarded(t, interrupted, ns);
            if (interrupted) {
                stop_ = true;
                return;
            }
            end(t, std::move(record));
        }
    }

    // Every finished cell, in matrix order.
    std::vector<CellResult> finished() {
        std::vector<CellResult> done;
        for (size_t c = 0; c < cells_.size(); ++c)
            if (finished_[c]) done.push_back(std::move(results_[c]));
        return done;
    }

private:
    struct Task {
        size_t cell;
        int run;
    };

    // False when the run is skipped (--until-hang: the cell already has its hang).
    bool begin(const Task& t) {
        std::lock_guard lock(mutex_);
        if (stopped_[t.cell]) {
            if (++runs_done_[t.cell] == cells_[t.cell].repeat) finish(t.cell);
            return false;
        }
        observer_.run_started(cells_[t.cell], t.run);
        return true;
    }

    RunRecord run_guarded(const Task& t, bool& interrupted, std::optional<PidNamespace>& ns) {
        const double started_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_).count();
        try {
            return run_once(cells_[t.cell], t.run, config_, interrupted, started_s, ns);
        } catch (const std::exception& e) {
            // A harness bug must not take the other runs down: the run fails, saying why.
            RunRecord record;
            record.evidence = evidence_dir(cells_[t.cell], t.run, config_);
            return failed_to_start(record, error(std::string("harness error: ") + e.what()));
        }
    }

    void end(const Task& t, RunRecord record) {
        std::lock_guard lock(mutex_);
        const bool hang = is_hang(record.verdict);
        results_[t.cell].runs[static_cast<size_t>(t.run - 1)] = std::move(record);
        ++runs_done_[t.cell];
        if (config_.until_hang && hang) stopped_[t.cell] = true;
        observer_.run_finished(cells_[t.cell], results_[t.cell].runs[static_cast<size_t>(t.run - 1)]);
        if (runs_done_[t.cell] == cells_[t.cell].repeat) finish(t.cell);
    }

    // REQUIRES: mutex_ held.
    void finish(size_t c) {
        // In run order, without the records of runs --until-hang skipped.
        std::erase_if(results_[c].runs, [](const RunRecord& r) { return r.evidence.empty(); });
        judge_cell(results_[c]);
        finished_[c] = true;
        observer_.cell_finished(results_[c]);
    }

    const std::vector<Cell>& cells_;
    const RunnerConfig& config_;
    RunObserver& observer_;
    const std::chrono::steady_clock::time_point epoch_ = std::chrono::steady_clock::now();
    std::vector<Task> tasks_;
    std::atomic<size_t> next_{0};
    std::atomic<bool> stop_{false};
    std::mutex mutex_;  // guards what follows, and observer calls
    std::vector<CellResult> results_;
    std::vector<int> runs_done_;  // finished or skipped
    std::vector<bool> finished_, stopped_;
};

}  // namespace

Result<std::vector<CellResult>> run_cells(const std::vector<Cell>& cells, const RunnerConfig& config,
                                          RunObserver& observer) {
    Schedule schedule(cells, config, observer);
    schedule.finish_inapplicable();
    const int jobs = std::max(1, std::min<int>(config.jobs, static_cast<int>(schedule.tasks())));
    std::vector<std::thread> threads;
    for (int j = 1; j < jobs; ++j) threads.emplace_back([&] { schedule.work(); });
    schedule.work();
    for (auto& t : threads) t.join();
    return schedule.finished();
}

}  // namespace hangar
