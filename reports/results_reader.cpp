#include "results_reader.hpp"

#include <algorithm>
#include <fstream>
#include <map>

#include "history.hpp"

namespace hangar::reports {
namespace {

struct Owner {
    const Family* family;
    Variant* variant;
};

// The family and variant a cell names, created on first sight.
Owner owner_for(LoadedResults& out, const std::string& family, const std::string& variant, Language language) {
    auto f = std::find_if(out.families.begin(), out.families.end(), [&](const Family& x) { return x.name == family; });
    if (f == out.families.end()) {
        out.families.push_back(Family{family, "", {}, {}});
        f = std::prev(out.families.end());
    }
    for (auto& [owner, v] : out.variants)
        if (owner == family && v.name == variant) return {&*f, &v};
    Variant v;
    v.name = variant;
    v.language = language;
    out.variants.emplace_back(family, std::move(v));
    return {&*f, &out.variants.back().second};
}

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
            Owner owner = owner_for(out, c.at("scenario"), c.at("variant"),
                                    c.value("language", "native") == "python" ? Language::python : Language::native);
            Variant& v = *owner.variant;
            Method method = parse_method(c.at("method").get<std::string>()).value_or(Method::none);
            const std::string sanitizer = c.value("sanitizer", "none");
            auto expect = parse_expectation(c.at("expect").get<std::string>());
            if (!expect) return error(file.string() + ": " + expect.error().message);
            if (sanitizer == "none") v.expect[method] = *expect;
            else v.by_sanitizer[sanitizer].expect[method] = *expect;
            if (!c.value("sanitizer_note", "").empty()) v.by_sanitizer[sanitizer].why = c["sanitizer_note"];
            if (std::find(v.methods.begin(), v.methods.end(), method) == v.methods.end()) v.methods.push_back(method);
            CellResult cell;
            cell.cell = Cell{owner.family, &v, method, sanitizer, 0, c.value("order", 0)};
            for (const auto& r : c.at("runs")) cell.runs.push_back(run_from(r));
            cell.cell.repeat = static_cast<int>(cell.runs.size());
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
            // Re-home the cell's family and variant in the merged set.
            Owner owner = owner_for(out, cell.cell.family->name, cell.cell.variant->name, cell.cell.variant->language);
            Variant& v = *owner.variant;
            // Shards hold different methods of a variant: pool what each says.
            for (const auto& [m, e] : cell.cell.variant->expect) v.expect[m] = e;
            for (const auto& [san, se] : cell.cell.variant->by_sanitizer) {
                for (const auto& [m, e] : se.expect) v.by_sanitizer[san].expect[m] = e;
                if (!se.why.empty()) v.by_sanitizer[san].why = se.why;
            }
            for (Method m : cell.cell.variant->methods)
                if (std::find(v.methods.begin(), v.methods.end(), m) == v.methods.end()) v.methods.push_back(m);
            cell.cell.family = owner.family;
            cell.cell.variant = &v;
            const std::string key = cell_key(cell);
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
