// `hangar run`: the comparison. Runs every selected cell, prints the table, writes the
// results JSON after every finished cell so an interrupted run keeps what it finished.
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "commands.hpp"
#include "history.hpp"
#include "progress.hpp"
#include "hangar/runner.hpp"
#include "session.hpp"
#include "table.hpp"

namespace hangar::cli {
namespace {

}  // namespace

void add_run_command(CLI::App& app, RunOptions& o) {
    auto* run = app.add_subcommand("run", "run scenario variants under each start method and compare them");
    run->add_option("scenarios", o.scenarios, "FAMILY or FAMILY/VARIANT to run (default: all; see hangar list)");
    // Each list option takes one word per occurrence, so that it never swallows what follows
    // it (a scenario name; in exec, the `--` before a command).
    run->add_option("--method", o.methods, "start methods, comma-separated (default: each variant's own)")
        ->delimiter(',')
        ->allow_extra_args(false)
        ->check(CLI::IsMember({"fork", "spawn", "forkserver"}));
    run->add_option("--sanitizer", o.sanitizers,
                    "builds to run native variants as, comma-separated: none, tsan, asan (default: none)")
        ->delimiter(',')
        ->allow_extra_args(false)
        ->check(CLI::IsMember({"none", "tsan", "asan"}));
    run->add_option("--timeout", o.timeout, "seconds a run may take before it counts as a hang")
        ->capture_default_str()
        ->check(seconds_check());
    run->add_option("--max-output", o.max_output,
                    "bytes of stdout and of stderr kept per run (K, M, G): the first half and the last half, "
                    "with the cut said in the file and the results")
        ->capture_default_str()
        ->check(size_check());
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
    run->add_flag("--isolate", o.isolate,
                  "show the run every mount read-only (with a /tmp and /dev/shm of its own) and start it with no "
                  "capabilities and no_new_privs: a program cannot change the machine, or unmount its /proc");
    run->add_flag("--hazards", o.hazards,
                  "preload the fork-hazard detector: every fork while another thread holds a lock (or is inside "
                  "getaddrinfo and the like) is reported with the holder and its stacks, hang or not");
    run->add_flag("--no-evidence", o.no_evidence,
                  "take no stacks or /proc snapshots of hangs (where ptrace is not allowed)");
    run->add_option("--out", o.out, "output folder; each run writes OUT/<time>-<pid>/ and points OUT/latest at it")
        ->capture_default_str();
    run->add_option("--json", o.json, "also write the results JSON (schema hangar.results/1) to FILE");
    run->add_option("--shard", o.shard, "K/N: run every N-th cell of the matrix, from the K-th (merge with hangar report)");
    run->add_option("--run-id", o.run_id,
                    "an id for this run, shared by the shards of one matrix so that hangar report can tell "
                    "them from another run's (default: a new one)");
    run->add_option("--history", o.history, "append this run's cell summaries to FILE; report.html then shows trends");
    run->add_flag("-q,--quiet", o.quiet, "no progress lines");
}

namespace {

Result<std::vector<Cell>> cells_asked_for(const Catalog& catalog, const RunOptions& o) {
    MatrixRequest request;
    request.selectors = o.scenarios;
    for (const auto& m : o.methods) request.methods.push_back(*parse_method(m));
    for (const auto& s : o.sanitizers) request.sanitizers.push_back(*parse_sanitizer(s));
    if (o.repeat > 0) request.repeat = o.repeat;
    if (o.stochastic_repeat > 0) request.stochastic_repeat = o.stochastic_repeat;
    if (!o.shard.empty()) {
        auto shard = parse_shard(o.shard);
        if (!shard) return shard.error();
        request.shard = *shard;
    }
    return select_cells(catalog, request);
}

RunnerConfig runner_config(const GlobalOptions& global, const RunOptions& o) {
    RunnerConfig config;
    config.python = resolve_python(global);
    config.scenario_bin_dir = global.scenario_bin_dir;
    config.limit = std::chrono::milliseconds(static_cast<long>(o.timeout * 1000));
    config.max_output = parse_size(o.max_output);
    config.jobs = o.jobs > 0 ? o.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    config.until_hang = o.until_hang;
    config.detect_stalls = !o.no_stall_detection;
    config.capture_evidence = !o.no_evidence;
    config.isolate = o.isolate;
    return config;
}

// A history file that will be appended to must be one: found broken before the matrix runs.
Status check_history(const std::string& history) {
    if (history.empty()) return {};
    if (auto s = check_json_target(history); !s) return error("--history: " + s.error().message);
    std::error_code ec;
    if (!std::filesystem::exists(history, ec)) return {};
    if (auto read = reports::read_history(history); !read) return error("--history: " + read.error().message);
    return {};
}

reports::RunContext run_context(const std::vector<Cell>& cells, const RunnerConfig& config, const RunOptions& o,
                                const std::string& command_line) {
    // Asking the interpreter its version costs a launch; only when a Python cell runs.
    const bool uses_python = std::any_of(cells.begin(), cells.end(), [](const Cell& c) {
        return c.applicable() && c.language() == Language::python;
    });
    std::vector<Sanitizer> sanitizers;
    for (const auto& s : o.sanitizers) sanitizers.push_back(*parse_sanitizer(s));
    reports::RunContext context{utc_now("%Y-%m-%dT%H:%M:%SZ"), command_line,
                                environment(uses_python ? config.python.string() : "", sanitizers), false,
                                o.run_id.empty() ? reports::new_run_id() : o.run_id, std::nullopt};
    if (!o.shard.empty()) context.shard = *parse_shard(o.shard);
    return context;
}

void print_rr_summary(const std::vector<CellResult>& results, const Recorder& recorder) {
    int unrecorded = 0;
    for (const auto& c : results)
        for (const auto& r : c.runs) {
            if (!r.rr_trace.empty()) std::printf("replay %s run: %s\n", c.cell.label().c_str(), r.rr_note.c_str());
            unrecorded += !recorder.available;
        }
    if (!recorder.available)
        std::printf("rr unavailable: %s (%d runs unrecorded)\n", recorder.reason.c_str(), unrecorded);
}

}  // namespace

int run_run(const GlobalOptions& global, const RunOptions& o, const std::string& command_line) {
    // From here on SIGINT and SIGTERM end the run in order, whatever it is doing.
    Interrupt& interrupt = Interrupt::on_signals();
    if (auto s = check_scenarios_known(global); !s) return fail_with(s.error());
    Catalog catalog = load_catalog(global.scenarios_dir);
    for (const auto& e : catalog.errors) complain("manifest error: " + e.message);
    auto cells = cells_asked_for(catalog, o);
    if (!cells) return fail_with(cells.error());
    if (auto s = check_history(o.history); !s) return fail_with(s.error());

    RunnerConfig config = runner_config(global, o);
    if (o.hazards) {
        auto detector = hazard_detector(global);
        if (!detector) return fail_with(detector.error());
        config.forkwatch = *detector;
        auto hook = python_hook_dir(global);
        if (!hook) return fail_with(hook.error());
        config.python_hook = *hook;
    }
    auto session = open_session(*cells, config, o.out, o.json);
    if (!session) return fail_with(session.error());
    config.evidence_root = session->dir;
    // The probe records in the session folder, so it can run only once that exists.
    if (o.rr || o.rr_chaos) {
        config.recorder = probe_recorder(session->dir / ".rr-probe", o.rr_chaos);
        if (!config.recorder->available)
            complain("rr unavailable: " + config.recorder->reason + "; every run goes on unrecorded");
    }
    config.interrupt = &interrupt;

    auto ran = run_matrix(*cells, config, *session, run_context(*cells, config, o, command_line), o.quiet, o.history);
    if (!ran) return fail_with(ran.error());
    const auto& results = ran->results;
    const Status& written = ran->written;
    if (config.recorder) print_rr_summary(results, *config.recorder);
    if (written) std::printf("reports: %s/{results.json,junit.xml,summary.md,report.html}\n", session->dir.c_str());
    else complain("could not write every report into " + session->dir.string() + ": " + written.error().message);
    std::fflush(stdout);

    if (interrupt.requested()) {
        complain("interrupted: kept the " + std::to_string(results.size()) + " cells that finished");
        return 128 + interrupt.signal_number();
    }
    if (!written) return exit_for(written.error());
    if (!catalog.errors.empty()) return kExitUsage;
    // Undecided cells are not met: the run could not show what the manifest claims.
    return tally(results).all_met() ? kExitOk : kExitMissed;
}

}  // namespace hangar::cli
