// `hangar check SCRIPT.py [--run] [--json FILE]`: what a workflow script starts or opens at
// import time outside `if __name__ == "__main__":` (python/hangar_check.py, a static read with
// the interpreter hangar uses), and with --run, what really runs again in spawn and
// forkserver children (hangar exec --method, traced by the start-up hook).
#include <cstdio>

#include "commands.hpp"
#include "hangar/atomic_file.hpp"
#include "hangar/watchdog.hpp"
#include "session.hpp"

namespace hangar::cli {
namespace {


// The interpreter must be one: a Python-only subcommand says so, once, instead of failing oddly.
Status check_interpreter(const std::string& python) {
    auto version = run_helper({python, "--version"}, std::filesystem::temp_directory_path(), std::chrono::seconds(10));
    if (!version) return error("--python " + python + ": " + version.error().message);
    const std::string said = version->out + version->err;
    if (said.rfind("Python 3", 0) != 0)
        return error("--python " + python + " is not a Python 3 interpreter (its --version said '" +
                     said.substr(0, said.find('\n')) + "')");
    return {};
}

}  // namespace

void add_check_command(CLI::App& app, CheckOptions& o) {
    auto* check = app.add_subcommand(
        "check", "list what a Python script starts or opens at import time, outside its __main__ guard");
    check->footer(
        "\nUnder spawn and forkserver every child re-runs the main script as __mp_main__: what its top level\n"
        "starts (pools, processes, executors, clusters, parsl.load) starts again in each child. check reads\n"
        "the script without running it and says which lines to move under `if __name__ == \"__main__\":`;\n"
        "--run then runs it under spawn and forkserver and says what really ran again.\n"
        "Examples:\n"
        "  hangar check flow.py\n"
        "  hangar check flow.py --run --timeout 30\n"
        "  hangar check flow.py --json check.json\n"
        "Exit status: 0 nothing found, 1 findings (or lines that ran again), 2 bad usage (not a file, not\n"
        "Python, a syntax error: said where).");
    check->add_option("script", o.script, "the Python script to read")->required();
    check->add_flag("--run", o.run, "also run it under spawn and forkserver and trace what children re-run");
    check->add_option("--json", o.json, "also write the findings as JSON (schema hangar.check/1) to FILE");
    check->add_option("--timeout", o.timeout, "with --run: seconds a run may take")->capture_default_str()->check(seconds_check());
    check->add_option("--out", o.out, "with --run: output folder")->capture_default_str();
}

int run_check(const GlobalOptions& global, const CheckOptions& o, const std::string& command_line) {
    const std::string python = resolve_python(global);
    if (auto s = check_interpreter(python); !s) return fail_with(s.error());
    if (auto s = check_json_target(o.json); !s) return fail_with(s.error());
    auto python_side = python_dir(global);
    if (!python_side) return fail_with(python_side.error());
    const auto checker = *python_side / "hangar_check.py";
    const auto scratch = std::filesystem::temp_directory_path();
    auto person = run_helper({python, checker.string(), o.script}, scratch, std::chrono::seconds(60));
    if (!person) return fail_with(error("the checker did not finish: " + person.error().message, Error::Kind::internal));
    const int status = person->ending.kind == Ending::Kind::exited ? person->ending.code : -1;
    if (status == 2 || status < 0 || status > 2) {
        std::string why = person->err.substr(0, person->err.find('\n'));
        if (why.rfind("hangar_check: ", 0) == 0) why.erase(0, 14);
        return fail_with(error(why.empty() ? "the checker failed" : why));
    }
    std::fputs(person->out.c_str(), stdout);
    if (!o.json.empty()) {
        auto json = run_helper({python, checker.string(), o.script, "--json"}, scratch, std::chrono::seconds(60));
        if (!json || json->ending.kind != Ending::Kind::exited || json->ending.code == 2)
            return fail_with(error("the checker's JSON could not be made", Error::Kind::internal));
        if (auto s = write_file_atomically(o.json, json->out); !s) return fail_with(s.error());
    }
    if (!o.run) return status;

    std::printf("\nRunning %s under spawn and forkserver to see what children re-run:\n", o.script.c_str());
    std::fflush(stdout);
    ExecOptions exec;
    exec.command = {python, o.script};
    exec.methods = {"spawn", "forkserver"};
    exec.timeout = o.timeout;
    exec.out = o.out;
    exec.quiet = true;
    const int ran = run_exec(global, exec, command_line);
    if (ran == kExitUsage || ran >= kExitHarness) return ran;
    return status == 1 || ran == kExitHang ? 1 : status;
}

}  // namespace hangar::cli
