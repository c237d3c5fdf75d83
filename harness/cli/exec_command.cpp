// `hangar exec -- CMD ARGS...`: any command under the same supervision, stall detection,
// evidence and cleanup as a scenario, with the same results JSON (one cell, method none).
#include <unistd.h>

#include <cstdio>

#include "commands.hpp"
#include "hangar/atomic_file.hpp"
#include "hangar/runner.hpp"
#include "hangar/text.hpp"
#include "results_json.hpp"
#include "session.hpp"

namespace hangar::cli {

void add_exec_command(CLI::App& app, ExecOptions& o) {
    auto* exec = app.add_subcommand("exec", "supervise any command: hang detection, evidence, no stray processes");
    exec->footer(
        "\nExample: hangar exec --timeout 60 -- python3 my_workflow.py\n"
        "Exit status: 0 the command passed, 3 it hung (deadlock or timeout), 1 it failed or crashed, 2 bad usage.");
    exec->add_option("--timeout", o.timeout, "seconds before the command counts as hung")
        ->capture_default_str()
        ->check(seconds_check());
    exec->add_option("--max-output", o.max_output, "bytes of stdout and of stderr kept (K, M, G)")
        ->capture_default_str()
        ->check(size_check());
    exec->add_flag("--isolate", o.isolate,
                  "show the run every mount read-only (with a /tmp and /dev/shm of its own) and start it with no "
                  "capabilities and no_new_privs: a program cannot change the machine, or unmount its /proc");
    exec->add_flag("--hazards", o.hazards,
                  "preload the fork-hazard detector: every fork while another thread holds a lock (or is inside "
                  "getaddrinfo and the like) is reported with the holder and its stacks, hang or not");
    exec->add_option("--out", o.out, "output folder (OUT/<time>-<pid>/exec/...)")->capture_default_str();
    exec->add_option("--json", o.json, "also write the results JSON to FILE");
    exec->add_option("command", o.command, "the command and its arguments, after --")->required();
}

namespace {

// The command as a one-cell matrix: family "exec", the program's name as the variant.
Cell exec_cell(const ExecOptions& o) {
    Cell cell;
    cell.family = "exec";
    // A name made from a program's path: one printable line, and not a path of its own.
    cell.variant = one_line(std::filesystem::path(o.command.front()).filename().string(), 64);
    if (cell.variant.empty() || cell.variant == "." || cell.variant == "..") cell.variant = "command";
    cell.method = Method::none;
    cell.expect = *parse_expectation("pass");
    cell.launch.command = o.command;
    return cell;
}

void print_run(const RunRecord& run) {
    std::printf("%s after %.2fs", std::string(to_string(run.verdict)).c_str(), run.seconds);
    if (run.exit_code) std::printf(", exit code %d", *run.exit_code);
    if (run.signal) std::printf(", signal %d", *run.signal);
    if (is_hang(run.verdict))
        std::printf(", signature: %s", run.signature.empty() ? "(no stack)" : run.signature.c_str());
    std::printf("\nevidence: %s\n", run.evidence.c_str());
}

}  // namespace

int run_exec(const GlobalOptions&, const ExecOptions& o, const std::string& command_line) {
    Interrupt& interrupt = Interrupt::on_signals();
    const Cell cell = exec_cell(o);
    RunnerConfig config;
    config.limit = std::chrono::milliseconds(static_cast<long>(o.timeout * 1000));
    config.max_output = parse_size(o.max_output);
    config.isolate = o.isolate;
    if (o.hazards) {
        auto detector = hazard_detector();
        if (!detector) return fail_with(detector.error());
        config.forkwatch = *detector;
        config.python_hook = python_hook_dir();
    }
    auto session = open_session({cell}, config, o.out, o.json);
    if (!session) return fail_with(session.error());
    config.evidence_root = session->dir;
    config.interrupt = &interrupt;

    reports::ResultsFile results_file(session->results,
                                      {utc_now("%Y-%m-%dT%H:%M:%SZ"), command_line, environment(""), false});
    auto results = run_cells({cell}, config, results_file);
    if (!results) return fail_with(results.error());
    Status written = results_file.finish(!interrupt.requested());
    if (interrupt.requested() || results->empty()) {
        complain("interrupted");
        return 128 + interrupt.signal_number();
    }
    const RunRecord& run = results->front().runs.front();
    print_run(run);
    if (!written) return fail_with(written.error());
    if (run.verdict == Verdict::pass) return kExitOk;
    return is_hang(run.verdict) ? kExitHang : kExitMissed;
}

}  // namespace hangar::cli
