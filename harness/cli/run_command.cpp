// `hangar run`: the comparison. Runs every selected cell, prints the table, writes the
// results JSON after every finished cell so an interrupted run keeps what it finished.
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "commands.hpp"
#include "hangar/progress.hpp"
#include "hangar/runner.hpp"
#include "session.hpp"
#include "table.hpp"

namespace hangar::cli {
namespace {

class Observers : public RunObserver {
public:
    explicit Observers(std::vector<RunObserver*> all) : all_(std::move(all)) {}
    void run_started(const Cell& c, int r) override {
        for (auto* o : all_) o->run_started(c, r);
    }
    void run_finished(const Cell& c, const RunRecord& r) override {
        for (auto* o : all_) o->run_finished(c, r);
    }
    void cell_finished(const CellResult& c) override {
        for (auto* o : all_) o->cell_finished(c);
    }

private:
    std::vector<RunObserver*> all_;
};

}  // namespace

void add_run_command(CLI::App& app, RunOptions& o) {
    auto* run = app.add_subcommand("run", "run scenario variants under each start method and compare them");
    run->add_option("scenarios", o.scenarios, "FAMILY or FAMILY/VARIANT to run (default: all; see hangar list)");
    run->add_option("--method", o.methods, "start methods, comma-separated (default: each variant's own)")
        ->delimiter(',')
        ->check(CLI::IsMember({"fork", "spawn", "forkserver"}));
    run->add_option("--sanitizer", o.sanitizers,
                    "builds to run native variants as, comma-separated: none, tsan, asan (default: none)")
        ->delimiter(',')
        ->check(CLI::IsMember({"none", "tsan", "asan"}));
    run->add_option("--timeout", o.timeout, "seconds a run may take before it counts as a hang")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    run->add_option("--repeat", o.repeat, "runs per cell (default: the manifest's, 1 unless it says more)")
        ->check(CLI::Range(1, 100000));
    run->add_option("--stochastic-repeat", o.stochastic_repeat,
                    "runs per cell for cells judged on a hang rate (overrides --repeat for those)")
        ->check(CLI::Range(1, 100000));
    run->add_option("-j,--jobs", o.jobs, "runs at once (default: the number of cores; races change with load)")
        ->check(CLI::Range(1, 256));
    run->add_flag("--until-hang", o.until_hang, "stop a cell at its first hang and keep that run's evidence");
    run->add_flag("--rr", o.rr,
                  "record every run with rr; traces of runs that hung or failed are kept, with the rr replay "
                  "command (needs hardware performance counters; probed first, and said when missing)");
    run->add_flag("--rr-chaos", o.rr_chaos, "as --rr, with rr's chaos mode (randomised scheduling)");
    run->add_flag("--no-stall-detection", o.no_stall_detection,
                  "never end a run early as a deadlock: every hang waits for --timeout");
    run->add_flag("--no-evidence", o.no_evidence,
                  "take no stacks or /proc snapshots of hangs (where ptrace is not allowed)");
    run->add_option("--out", o.out, "output folder; each run writes OUT/<time>-<pid>/ and points OUT/latest at it")
        ->capture_default_str();
    run->add_option("--json", o.json, "also write the results JSON (schema hangar.results/1) to FILE");
    run->add_option("--shard", o.shard, "K/N: run every N-th cell of the matrix, from the K-th (merge with hangar report)");
    run->add_option("--history", o.history, "append this run's cell summaries to FILE; report.html then shows trends");
    run->add_flag("-q,--quiet", o.quiet, "no progress lines");
}

int run_run(const GlobalOptions& global, const RunOptions& o, const std::string& command_line) {
    Catalog catalog = load_catalog(global.scenarios_dir);
    for (const auto& e : catalog.errors) complain("manifest error: " + e.message);

    std::vector<Method> methods;
    for (const auto& m : o.methods) methods.push_back(*parse_method(m));
    auto cells = select_cells(catalog, o.scenarios, methods, o.repeat > 0 ? std::optional(o.repeat) : std::nullopt,
                              o.sanitizers);
    if (!cells) {
        complain(cells.error().message);
        return kExitUsage;
    }

    if (o.stochastic_repeat > 0)
        for (auto& c : *cells)
            if (c.expect().stochastic()) c.repeat = o.stochastic_repeat;
    if (!o.shard.empty()) {
        auto shard = parse_shard(o.shard);
        if (!shard) {
            complain(shard.error().message);
            return kExitUsage;
        }
        std::vector<Cell> mine;
        for (const auto& c : *cells)
            if (c.order % shard->second == shard->first - 1) mine.push_back(c);
        if (mine.empty()) {
            complain("shard " + o.shard + " has no cells: the matrix has only " + std::to_string(cells->size()));
            return kExitUsage;
        }
        *cells = std::move(mine);
    }
    if (!o.history.empty()) {
        if (auto s = check_json_target(o.history); !s) {
            complain("--history: " + s.error().message);
            return kExitUsage;
        }
    }

    RunnerConfig config;
    config.python = resolve_python(global);
    config.scenario_bin_dir = global.scenario_bin_dir;
    config.limit = std::chrono::milliseconds(static_cast<long>(o.timeout * 1000));
    config.jobs = o.jobs > 0 ? o.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    config.until_hang = o.until_hang;
    config.detect_stalls = !o.no_stall_detection;
    config.capture_evidence = !o.no_evidence;
    auto session = open_session(*cells, config, o.out, o.json);
    if (!session) {
        complain(session.error().message);
        return kExitUsage;
    }
    if (o.rr || o.rr_chaos) {
        config.recorder = probe_recorder(config.evidence_root / ".rr-probe", o.rr_chaos);
        if (!config.recorder->available)
            complain("rr unavailable: " + config.recorder->reason + "; every run goes on unrecorded");
    }
    Interrupt& interrupt = Interrupt::on_signals();
    config.interrupt = &interrupt;

    // Asking the interpreter its version costs a launch; only when a Python cell runs.
    const bool uses_python = std::any_of(cells->begin(), cells->end(), [](const Cell& c) {
        return c.applicable() && c.variant->language == Language::python;
    });
    reports::RunContext context{utc_now("%Y-%m-%dT%H:%M:%SZ"), command_line, environment(uses_python ? config.python.string() : "", o.sanitizers), false};
    ResultsWriter writer(results_targets(*session, o.json), context);
    int total_runs = 0;
    for (const auto& c : *cells) total_runs += c.repeat;
    Progress progress(static_cast<int>(cells->size()), total_runs, isatty(STDERR_FILENO) != 0);
    std::vector<RunObserver*> observers{&writer};
    if (!o.quiet) observers.push_back(&progress);
    Observers all(observers);

    auto results = run_cells(*cells, config, all);
    if (!o.quiet) progress.finish();
    if (!results) {
        complain(results.error().message);
        return kExitUsage;
    }
    writer.write(!interrupt.requested());
    context.complete = !interrupt.requested();
    const bool reports_written = finish_reports(*session, *results, context, o.history).ok();
    if (!reports_written) complain("could not write every report into " + session->string());
    std::fputs(reports::render_table(*results).c_str(), stdout);
    if (config.recorder) {
        int unrecorded = 0;
        for (const auto& c : *results)
            for (const auto& r : c.runs) {
                if (!r.rr_trace.empty()) std::printf("replay %s run: %s\n", c.cell.scenario_id().c_str(), r.rr_note.c_str());
                unrecorded += !config.recorder->available;
            }
        if (!config.recorder->available)
            std::printf("rr unavailable: %s (%d runs unrecorded)\n", config.recorder->reason.c_str(), unrecorded);
    }
    std::printf("reports: %s/{results.json,junit.xml,summary.md,report.html}\n", session->c_str());
    std::fflush(stdout);

    if (interrupt.requested()) {
        complain("interrupted: kept the " + std::to_string(results->size()) + " cells that finished");
        return 128 + interrupt.signal_number();
    }
    if (!catalog.errors.empty() || writer.failed() || !reports_written) return kExitUsage;
    // Undecided cells are not met: the run could not show what the manifest claims.
    bool all_met = std::all_of(results->begin(), results->end(),
                               [](const CellResult& c) { return c.judgement.met || !c.cell.applicable(); });
    return all_met ? kExitOk : kExitMissed;
}

}  // namespace hangar::cli
