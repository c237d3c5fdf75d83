#include "results_reader.hpp"

#include <algorithm>
#include <fstream>
#include <map>

namespace hangar::reports {
namespace {

RunRecord run_from(const nlohmann::json& r) {
    RunRecord run;
    run.verdict = parse_verdict(r.at("verdict").get<std::string>()).value_or(Verdict::fail);
    run.seconds = r.value("seconds", 0.0);
    if (r.contains("exit_code")) run.exit_code = r["exit_code"].get<int>();
    if (r.contains("signal")) run.signal = r["signal"].get<int>();
    run.evidence = r.value("evidence", "");
    run.workflow_starts = r.value("workflow_starts", 0);
    if (r.contains("time_to_verdict_ms")) run.time_to_verdict_ms = r["time_to_verdict_ms"].get<long>();
    run.signature = r.value("signature", "");
    run.started_s = r.value("started_s", 0.0);
    if (r.contains("rr")) {
        run.rr_note = r["rr"].value("note", "");
        run.rr_trace = r["rr"].value("trace", "");
    }
    for (const auto& f : r.value("sanitizer_findings", nlohmann::json::array()))
        run.findings.push_back({f.value("tool", ""), f.value("kind", ""), f.value("summary", ""),
                                f.value("frames", std::vector<std::string>{})});
    return run;
}

}  // namespace

Result<LoadedResults> read_results(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) return error("cannot read " + file.string());
    LoadedResults out;
    try {
        auto j = nlohmann::json::parse(in);
        if (j.value("schema", "") != kResultsSchema)
            return error(file.string() + ": not a hangar results file (schema is not " + kResultsSchema + ")");
        out.context = {j.value("started_at", ""), j.value("command", ""), j.value("environment", nlohmann::json::object()),
                       j.value("complete", false)};
        for (const auto& c : j.at("cells")) {
            CellResult cell;
            Cell& id = cell.cell;
            id.family = c.at("scenario").get<std::string>();
            id.variant = c.at("variant").get<std::string>();
            id.launch.language = c.value("language", "native") == "python" ? Language::python : Language::native;
            id.method = parse_method(c.at("method").get<std::string>()).value_or(Method::none);
            id.sanitizer = parse_sanitizer(c.value("sanitizer", "none")).value_or(Sanitizer::none);
            auto expect = parse_expectation(c.at("expect").get<std::string>());
            if (!expect) return error(file.string() + ": " + expect.error().message);
            id.expect = *expect;
            id.sanitizer_note = c.value("sanitizer_note", "");
            if (!c.value("applicable", true)) id.not_applicable_reason = c.value("not_applicable_reason", "not applicable");
            id.order = c.value("order", 0);
            for (const auto& r : c.at("runs")) cell.runs.push_back(run_from(r));
            id.repeat = static_cast<int>(cell.runs.size());
            judge_cell(cell);
            out.cells.push_back(std::move(cell));
        }
    } catch (const std::exception& e) {
        return error(file.string() + ": malformed results (" + e.what() + ")");
    }
    return out;
}

LoadedResults merge_results(std::vector<LoadedResults> parts) {
    if (parts.size() == 1) return std::move(parts.front());
    LoadedResults out;
    std::map<std::string, size_t> index;  // cell key -> position in out.cells
    for (auto& part : parts) {
        if (out.context.started_at.empty() || part.context.started_at < out.context.started_at)
            out.context.started_at = part.context.started_at;
        if (out.context.environment.empty()) out.context.environment = part.context.environment;
        out.context.command += (out.context.command.empty() ? "" : " + ") + part.context.command;
        for (auto& cell : part.cells) {
            const std::string key = cell.cell.key();
            if (auto it = index.find(key); it != index.end()) {
                auto& runs = out.cells[it->second].runs;
                runs.insert(runs.end(), cell.runs.begin(), cell.runs.end());
                out.cells[it->second].cell.repeat = static_cast<int>(runs.size());
                continue;
            }
            index[key] = out.cells.size();
            out.cells.push_back(std::move(cell));
        }
    }
    bool all_complete = std::all_of(parts.begin(), parts.end(), [](const LoadedResults& p) { return p.context.complete; });
    out.context.complete = all_complete;
    std::stable_sort(out.cells.begin(), out.cells.end(),
                     [](const CellResult& a, const CellResult& b) { return a.cell.order < b.cell.order; });
    for (auto& c : out.cells) judge_cell(c);
    return out;
}

}  // namespace hangar::reports
