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
}

int run_report(const ReportOptions& o, const std::string& command_line) {
    std::vector<reports::LoadedResults> parts;
    for (const auto& input : o.inputs) {
        auto part = reports::read_results(input);
        if (!part) {
            complain(part.error().message);
            return kExitUsage;
        }
        parts.push_back(std::move(*part));
    }
    if (o.append_history && o.history.empty()) {
        complain("--append-history needs --history FILE");
        return kExitUsage;
    }
    if (!o.history.empty() && !o.append_history && !std::filesystem::exists(o.history)) {
        complain("--history " + o.history + " does not exist (add --append-history to start one)");
        return kExitUsage;
    }
    reports::LoadedResults merged = reports::merge_results(std::move(parts));
    if (o.inputs.size() > 1) merged.context.command = command_line + " (from: " + merged.context.command + ")";
    if (o.append_history) {
        if (auto s = reports::append_history(o.history, merged.cells, merged.context); !s) {
            complain(s.error().message);
            return kExitUsage;
        }
    }
    std::vector<reports::HistoryEntry> history;
    if (!o.history.empty()) {
        auto read = reports::read_history(o.history);
        if (!read) {
            complain(read.error().message);
            return kExitUsage;
        }
        history = std::move(*read);
    }
    if (auto s = check_writable_dir(o.out); !s) {
        complain(s.error().message);
        return kExitUsage;
    }
    if (auto s = reports::write_reports(o.out, merged.cells, merged.context, history); !s) {
        complain(s.error().message);
        return kExitUsage;
    }
    std::fputs(reports::render_table(merged.cells).c_str(), stdout);
    std::printf("reports: %s/{results.json,junit.xml,summary.md,report.html}\n", o.out.c_str());
    bool all_met = true;
    for (const auto& c : merged.cells) all_met &= c.judgement.met || !c.cell.applicable();
    return all_met ? kExitOk : kExitMissed;
}

}  // namespace hangar::cli
