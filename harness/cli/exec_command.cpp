// `hangar exec -- CMD ARGS...`: any command under the same supervision, stall detection,
// evidence and cleanup as a scenario, with the same results JSON (one cell, method none).
// With --method, the user's unmodified program once per start method (x --repeat), with
// the comparison table and the four reports of `hangar run`: a Python program gets the
// method through hangar's start-up hook, which also traces what children re-run.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <thread>

#include "commands.hpp"
#include "hangar/atomic_file.hpp"
#include "hangar/runner.hpp"
#include "hangar/text.hpp"
#include "hangar/text_file.hpp"
#include "results_json.hpp"
#include "session.hpp"

namespace hangar::cli {

void add_exec_command(CLI::App& app, ExecOptions& o) {
    auto* exec = app.add_subcommand("exec", "supervise any command: hang detection, evidence, no stray processes");
    exec->footer(
        "\nExamples:\n"
        "  hangar exec --timeout 60 -- python3 my_workflow.py\n"
        "  hangar exec --method fork,spawn,forkserver --repeat 5 -- python3 flow.py --input data.csv\n"
        "  hangar exec --method fork,spawn --expect fork=hang,spawn=pass --hazards -- python3 flow.py\n"
        "A Python program gets the start method as multiprocessing's default through hangar's start-up hook\n"
        "(a program that picks its own context keeps it; the table says which method children really used).\n"
        "A native program gets it as HANGAR_START_METHOD in its environment.\n"
        "Exit status: without --method, 0 the command passed, 3 it hung (deadlock or timeout), 1 it failed or\n"
        "crashed; with --method and --expect, 0 every cell met its expectation, 1 some missed; with --method\n"
        "alone, 0 no run hung, 3 some run hung; 2 bad usage; 4 a report could not be written.");
    exec->add_option("--method", o.methods, "start methods to run the command under, comma-separated")
        ->delimiter(',')
        ->allow_extra_args(false)
        ->check(CLI::IsMember({"fork", "spawn", "forkserver"}));
    exec->add_option("--expect", o.expect,
                     "METHOD=EXPECTATION per start method, comma-separated (fork=hang,spawn=pass; the manifest "
                     "grammar: pass, fail, hang, not-pass, hang-rate >= X, ...; 'spawn=pass, starts == 1' keeps its clause)")
        ->allow_extra_args(false);
    exec->add_option("--repeat", o.repeat, "runs per start method")->capture_default_str()->check(CLI::Range(1, 100000));
    exec->add_option("-j,--jobs", o.jobs, "runs at once (default: the number of cores)")->check(CLI::Range(1, 256));
    exec->add_flag("--until-hang", o.until_hang, "stop a start method at its first hang");
    exec->add_flag("-q,--quiet", o.quiet, "no progress lines");
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

// Whether the command runs CPython: its program (found on PATH, links followed) is named
// python*, or is a script whose #! line names python.
bool is_python_command(const std::vector<std::string>& command) {
    auto program = find_program(command.front());
    if (!program) return false;
    std::error_code ec;
    const auto real = std::filesystem::canonical(*program, ec);
    for (const auto& p : {*program, ec ? *program : real})
        if (p.filename().string().rfind("python", 0) == 0) return true;
    const std::string head = read_text(*program, 256);
    return head.rfind("#!", 0) == 0 && head.substr(0, head.find('\n')).find("python") != std::string::npos;
}

// --expect fork=hang,spawn=pass: an expectation per method run; none for a method not run.
// A piece that does not start with METHOD= belongs to the one before it (spawn=pass, starts == 1).
Result<std::map<Method, Expectation>> parse_expects(const std::vector<std::string>& given,
                                                     const std::vector<Method>& methods) {
    std::vector<std::string> items;
    for (const auto& text : given)
        for (size_t start = 0; start <= text.size();) {
            size_t comma = text.find(',', start);
            if (comma == std::string::npos) comma = text.size();
            const std::string piece = text.substr(start, comma - start);
            const auto eq = piece.find('=');
            if (items.empty() || (eq != std::string::npos && parse_method(piece.substr(0, eq)))) items.push_back(piece);
            else items.back() += "," + piece;
            start = comma + 1;
        }
    std::map<Method, Expectation> out;
    for (const auto& item : items) {
        const auto eq = item.find('=');
        const auto method = parse_method(item.substr(0, eq));
        if (eq == std::string::npos || !method)
            return error("--expect " + item + ": expected METHOD=EXPECTATION, e.g. --expect fork=hang,spawn=pass");
        if (std::find(methods.begin(), methods.end(), *method) == methods.end())
            return error("--expect " + item + ": " + item.substr(0, eq) + " is not among the --method asked for");
        auto e = parse_expectation(item.substr(eq + 1));
        if (!e) return error("--expect " + item + ": " + e.error().message);
        out[*method] = *e;
    }
    return out;
}

// The command as a matrix: family "exec", the program's name (or a Python program's script)
// as the variant, one cell per method (or one, method none).
std::vector<Cell> exec_cells(const ExecOptions& o, const std::vector<Method>& methods,
                             const std::map<Method, Expectation>& expects, bool python) {
    Cell cell;
    cell.family = "exec";
    std::string name = std::filesystem::path(o.command.front()).filename().string();
    if (python && o.command.size() > 1 && o.command[1].rfind('-', 0) != 0)
        name = std::filesystem::path(o.command[1]).filename().string();
    // A name made from a path: one printable line, and not a path of its own.
    cell.variant = one_line(name, 64);
    if (cell.variant.empty() || cell.variant == "." || cell.variant == "..") cell.variant = "command";
    cell.launch.command = o.command;
    cell.launch.python_hook = python;
    if (methods.empty()) {
        cell.method = Method::none;
        cell.expect = *parse_expectation("pass");
        return {cell};
    }
    std::vector<Cell> cells;
    for (Method m : methods) {
        Cell c = cell;
        c.method = m;
        c.expect = expects.count(m) ? expects.at(m) : *parse_expectation("any");
        c.launch.env = {"HANGAR_START_METHOD=" + std::string(to_string(m))};
        c.repeat = o.repeat;
        c.order = static_cast<int>(cells.size());
        cells.push_back(std::move(c));
    }
    return cells;
}

void print_run(const RunRecord& run, double limit_s) {
    std::printf("%s after %.2fs", std::string(to_string(run.verdict)).c_str(), run.seconds);
    // A timeout before the limit is a proof that the run could not finish in time.
    if (run.verdict == Verdict::timeout && run.seconds < limit_s - 0.5)
        std::printf(" (proven: nothing can act before the %gs limit, something can after it: not a deadlock)", limit_s);
    if (run.exit_code) std::printf(", exit code %d", *run.exit_code);
    if (run.signal) std::printf(", signal %d", *run.signal);
    if (is_hang(run.verdict))
        std::printf(", signature: %s", run.signature.empty() ? "(no stack)" : run.signature.c_str());
    std::printf("\nevidence: %s\n", run.evidence.c_str());
}

}  // namespace

int run_exec(const GlobalOptions& global, const ExecOptions& o, const std::string& command_line) {
    Interrupt& interrupt = Interrupt::on_signals();
    std::vector<Method> methods;
    for (const auto& m : o.methods) methods.push_back(*parse_method(m));
    if (methods.empty() && (!o.expect.empty() || o.repeat != 1 || o.until_hang))
        return fail_with(error("--expect, --repeat and --until-hang compare start methods: give --method too"));
    auto expects = parse_expects(o.expect, methods);
    if (!expects) return fail_with(expects.error());
    const bool python = is_python_command(o.command);
    const std::vector<Cell> cells = exec_cells(o, methods, *expects, python);

    RunnerConfig config;
    config.limit = std::chrono::milliseconds(static_cast<long>(o.timeout * 1000));
    config.max_output = parse_size(o.max_output);
    config.isolate = o.isolate;
    config.jobs = o.jobs > 0 ? o.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    config.until_hang = o.until_hang;
    if (python || o.hazards) {
        auto hook = python_hook_dir(global);
        if (!hook) return fail_with(hook.error());
        config.python_hook = *hook;
    }
    if (o.hazards) {
        auto detector = hazard_detector(global);
        if (!detector) return fail_with(detector.error());
        config.forkwatch = *detector;
    }
    auto session = open_session(cells, config, o.out, o.json);
    if (!session) return fail_with(session.error());
    config.evidence_root = session->dir;
    config.interrupt = &interrupt;
    reports::RunContext context{utc_now("%Y-%m-%dT%H:%M:%SZ"), command_line, environment(""), false,
                                reports::new_run_id(), std::nullopt};

    if (!methods.empty()) {
        auto ran = run_matrix(cells, config, *session, context, o.quiet, "");
        if (!ran) return fail_with(ran.error());
        if (ran->written)
            std::printf("reports: %s/{results.json,junit.xml,summary.md,report.html}\n", session->dir.c_str());
        std::fflush(stdout);
        if (interrupt.requested()) {
            complain("interrupted: kept the " + std::to_string(ran->results.size()) + " cells that finished");
            return 128 + interrupt.signal_number();
        }
        if (!ran->written) return fail_with(ran->written.error());
        if (!o.expect.empty()) return tally(ran->results).all_met() ? kExitOk : kExitMissed;
        const bool hung = std::any_of(ran->results.begin(), ran->results.end(),
                                      [](const CellResult& c) { return c.hangs() > 0; });
        return hung ? kExitHang : kExitOk;
    }

    reports::ResultsFile results_file(session->results, context);
    auto results = run_cells(cells, config, results_file);
    if (!results) return fail_with(results.error());
    Status written = results_file.finish(!interrupt.requested());
    if (interrupt.requested() || results->empty()) {
        complain("interrupted");
        return 128 + interrupt.signal_number();
    }
    const RunRecord& run = results->front().runs.front();
    print_run(run, o.timeout);
    if (!written) return fail_with(written.error());
    if (run.verdict == Verdict::pass) return kExitOk;
    return is_hang(run.verdict) ? kExitHang : kExitMissed;
}

}  // namespace hangar::cli
