// `hangar report IN.json... --out DIR`: renders every report again from results files,
// merging several (the shards of one matrix, or repeated runs of the same cells) into one.
#include <cstdio>

#include "commands.hpp"
#include "hangar/atomic_file.hpp"
#include "history.hpp"
#include "report_set.hpp"
#include "results_reader.hpp"
#include "session.hpp"
#include "table.hpp"

namespace hangar::cli {

void add_report_command(CLI::App& app, ReportOptions& o) {
    auto* report = app.add_subcommand("report", "re-render reports from results JSON files, merging shards");
    report->add_option("inputs", o.inputs, "results JSON files (hangar run --json, or OUT/<run>/results.json)")
        ->required()
        ->check(CLI::ExistingFile);
    report->add_option("--out", o.out, "folder for results.json, junit.xml, summary.md and report.html")->required();
    report->add_option("--history", o.history, "a history file (hangar run --history) for the trend view");
    report->add_flag("--append-history", o.append_history,
                     "append the merged cells to the --history file first (once per nightly merge)");
    report->add_flag("--allow-partial", o.allow_partial, "merge the shards given even when some of the run's are missing");
}

int run_report(const ReportOptions& o, const std::string& command_line) {
    std::vector<reports::LoadedResults> parts;
    for (const auto& input : o.inputs) {
        auto part = reports::read_results(input);
        if (!part) return fail_with(part.error());
        parts.push_back(std::move(*part));
    }
    if (auto s = reports::check_mergeable(parts, o.allow_partial); !s) return fail_with(s.error());
    if (o.append_history && o.history.empty()) return fail_with(error("--append-history needs --history FILE"));
    if (!o.history.empty()) {
        std::error_code ec;
        if (std::filesystem::is_directory(o.history, ec))
            return fail_with(error("--history " + o.history + " is a folder; give the history file"));
        if (!o.append_history && !std::filesystem::exists(o.history, ec))
            return fail_with(error("--history " + o.history + " does not exist (add --append-history to start one)"));
        if (std::filesystem::exists(o.history, ec))
            if (auto read = reports::read_history(o.history); !read) return fail_with(read.error());
    }
    reports::LoadedResults merged = reports::merge_results(std::move(parts));
    if (o.inputs.size() > 1) merged.context.command = command_line + " (from: " + merged.context.command + ")";
    if (auto s = check_writable_dir(o.out); !s) return fail_with(s.error());

    Session session{std::filesystem::absolute(o.out), {std::filesystem::path(o.out) / "results.json"}};
    const bool complete = merged.context.complete;
    reports::ResultsFile results_file(session.results, merged.context);
    results_file.set_cells(std::move(merged.cells));
    if (auto s = results_file.finish(complete); !s) return fail_with(s.error());
    if (auto s = finish_reports(session, results_file, o.history, o.append_history); !s) return fail_with(s.error());
    std::fputs(reports::render_table(results_file.cells()).c_str(), stdout);
    std::printf("reports: %s/{results.json,junit.xml,summary.md,report.html}\n", o.out.c_str());
    return tally(results_file.cells()).all_met() ? kExitOk : kExitMissed;
}

}  // namespace hangar::cli
