// hangar: reproduces the hangs fork() causes in multi-threaded processes, side by side
// with the spawn and forkserver start methods that avoid them.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "commands.hpp"

namespace {

const char* kFooter = R"(
Examples:
  hangar list                                   what can run, and what each is expected to do
  hangar run                                    the full comparison; reports in hangar-out/latest/
                                                (results.json, junit.xml, summary.md, report.html)
  hangar run logging-lock --method fork,spawn   one family under two start methods
  hangar run nss-lock/nss-module --repeat 3 --json r.json
  hangar exec --timeout 60 -- python3 my_workflow.py   supervise any command the same way
  hangar exec --method fork,spawn,forkserver -- python3 flow.py   your program under each start method
  hangar check flow.py --run                             what a script re-runs in spawn children
  hangar run --shard 1/4 --json s1.json                 a quarter of the matrix (for CI machines)
  hangar report s1.json s2.json s3.json s4.json --out merged   merge shards, write every report

Exit status: 0 every cell met its expectation, 1 some cell missed, 2 bad usage or input,
4 hangar could not finish its job (a report could not be written), 130/143 interrupted
(results of finished runs are kept).
Scenarios live in one folder per family with a manifest.toml: see scenarios/README.md
(installed: share/hangar/scenarios/README.md). `hangar list --where` says where this hangar
found its scenarios, their programs and its own files.)";

// CLI11 reports a missing subcommand even when the user typed a wrong one; name it.
std::string unknown_command(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg.rfind("--", 0) == 0 && arg.find('=') == std::string::npos) {
            ++i;  // the global options all take a value
            continue;
        }
        if (!arg.empty() && arg[0] != '-') return "unknown command '" + arg + "'; commands: list, run, exec, report, check";
    }
    return "no command given; commands: list, run, exec, report, check";
}

}  // namespace

int main(int argc, char** argv) {
    using namespace hangar::cli;
    // Started with stdin, stdout or stderr closed, the first sockets and files hangar opens
    // would take those numbers, and its progress lines would land in them.
    for (int fd = 0; fd <= 2; ++fd)
        if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd) return 2;
    CLI::App app{"hangar: reproduce the hangs that fork() causes in multi-threaded processes,\n"
                 "side by side with the spawn and forkserver start methods that avoid them."};
    app.footer(kFooter);
    app.require_subcommand(1, 1);
    app.fallthrough();

    GlobalOptions global;
    // hangar's own files, found from where this binary is (hangar list --where says where).
    if (auto layout = hangar::find_layout()) {
        global.layout = *layout;
        global.scenarios_dir = layout->scenarios;
        global.scenario_bin_dir = layout->scenario_bin;
    } else {
        global.layout_error = layout.error();
    }
    app.add_option("--scenarios", global.scenarios_dir, "folder of scenario families")
        ->capture_default_str()
        ->check(CLI::ExistingDirectory)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.add_option("--scenario-bin", global.scenario_bin_dir, "folder of built native scenarios")
        ->capture_default_str()
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.add_option("--python", global.python,
                   "Python interpreter for python scenarios (default: $HANGAR_PYTHON, else /usr/bin/python3)")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);

    ListOptions list_options;
    add_list_command(app, list_options);
    RunOptions run_options;
    add_run_command(app, run_options);
    ExecOptions exec_options;
    add_exec_command(app, exec_options);
    ReportOptions report_options;
    add_report_command(app, report_options);
    CheckOptions check_options;
    add_check_command(app, check_options);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        if (app.get_subcommands().empty()) {
            complain(unknown_command(argc, argv) + " (see: hangar --help)");
            return kExitUsage;
        }
        complain(std::string(e.what()) + " (see: hangar " + app.get_subcommands().front()->get_name() + " --help)");
        return kExitUsage;
    }

    std::string command_line;
    for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);
    if (app.got_subcommand("list")) return run_list(global, list_options);
    if (app.got_subcommand("exec")) return run_exec(global, exec_options, command_line);
    if (app.got_subcommand("report")) return run_report(report_options, command_line);
    if (app.got_subcommand("check")) return run_check(global, check_options, command_line);
    return run_run(global, run_options, command_line);
}
