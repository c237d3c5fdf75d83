#include "results_reader.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>

#include "hangar/text.hpp"

namespace hangar::reports {
namespace {

// A field that names one of hangar's own words; anything else is an error naming it.
template <class T, class Parse>
T known(const nlohmann::json& j, const char* key, Parse parse, const char* what, const std::string& where) {
    const std::string text = j.at(key).template get<std::string>();
    auto value = parse(text);
    if (!value) throw std::invalid_argument(where + ": unknown " + what + " '" + one_line(text, 40) + "'");
    return *value;
}

RunRecord run_from(const nlohmann::json& r, const std::string& where) {
    RunRecord run;
    run.verdict = known<Verdict>(r, "verdict", parse_verdict, "verdict", where);
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
    if (r.contains("output_cut")) {
        const auto& o = r["output_cut"];
        run.output_cut = RunRecord::OutputCut{o.value("stdout_bytes", uint64_t{0}), o.value("stderr_bytes", uint64_t{0}),
                                              o.value("kept_per_stream", uint64_t{0})};
    }
    if (r.contains("fork_hazards") && r["fork_hazards"].is_object()) {
        const auto& h = r["fork_hazards"];
        RunRecord::Hazards hazards;
        hazards.checked = h.value("checked", false);
        hazards.forks = h.value("forks", 0);
        hazards.note = h.value("note", "");
        for (const auto& f : h.value("shown", nlohmann::json::array())) {
            ForkHazard fork{f.value("parent", 0L), f.value("tid", 0L), f.value("child", 0L), f.value("thread", ""), {}};
            for (const auto& x : f.value("held", nlohmann::json::array())) {
                HeldAtFork held;
                held.kind = x.value("kind", "");
                held.addr = x.value("addr", "");
                held.call = x.value("call", "");
                held.lock = x.value("lock", "");
                held.holder_tid = x.value("holder_tid", 0L);
                held.holder = x.value("holder", "");
                held.acquired_at = x.value("acquired_at", "");
                held.native = x.value("stack", std::vector<std::string>{});
                held.stack_note = x.value("stack_note", "");
                held.python = x.value("python", std::vector<std::string>{});
                held.child_waited = x.value("child_waited", false);
                held.signature = x.value("signature", "");
                fork.held.push_back(std::move(held));
            }
            hazards.shown.push_back(std::move(fork));
        }
        run.hazards = std::move(hazards);
    }
    if (r.contains("python") && r["python"].is_object()) {
        const auto& p = r["python"];
        RunRecord::PythonTrace t;
        t.processes = p.value("processes", 0);
        t.main_runs = p.value("main_runs", 0);
        t.child_starts = p.value("child_starts", std::map<std::string, int>{});
        t.reimporting_children = p.value("reimporting_children", 0);
        for (const auto& l : p.value("reimported", nlohmann::json::array()))
            t.reimported.push_back({l.value("file", ""), l.value("line", 0), l.value("source", ""), l.value("processes", 0),
                                    l.value("action", false)});
        run.python = std::move(t);
    }
    for (const auto& f : r.value("sanitizer_findings", nlohmann::json::array()))
        run.findings.push_back({f.value("tool", ""), f.value("kind", ""), f.value("summary", ""),
                                f.value("frames", std::vector<std::string>{})});
    return run;
}

}  // namespace

Result<LoadedResults> read_results(const std::filesystem::path& file) {
    // A FIFO or a device would block the reader, or never end.
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) return error(file.string() + ": not a regular file");
    std::ifstream in(file);
    if (!in) return error("cannot read " + file.string());
    LoadedResults out;
    try {
        auto j = nlohmann::json::parse(in);
        if (j.value("schema", "") != kResultsSchema)
            return error(file.string() + ": not a hangar results file (schema is not " + kResultsSchema + ")");
        out.context = {j.value("started_at", ""), j.value("command", ""), j.value("environment", nlohmann::json::object()),
                       j.value("complete", false), j.value("run_id", ""), std::nullopt};
        if (j.contains("shard") && j["shard"].is_object())
            out.context.shard = std::pair{j["shard"].at("k").get<int>(), j["shard"].at("n").get<int>()};
        out.file = file;
        for (const auto& c : j.at("cells")) {
            CellResult cell;
            Cell& id = cell.cell;
            id.family = c.at("scenario").get<std::string>();
            id.variant = c.at("variant").get<std::string>();
            const std::string where = "cell " + one_line(id.scenario_id(), 200);
            id.launch.language = c.value("language", "native") == "python" ? Language::python : Language::native;
            id.method = known<Method>(c, "method", parse_any_method, "method", where);
            id.sanitizer = c.contains("sanitizer") ? known<Sanitizer>(c, "sanitizer", parse_sanitizer, "sanitizer", where)
                                                   : Sanitizer::none;
            auto expect = parse_expectation(c.at("expect").get<std::string>());
            if (!expect) return error(file.string() + ": " + expect.error().message);
            id.expect = *expect;
            id.sanitizer_note = c.value("sanitizer_note", "");
            if (!c.value("applicable", true)) id.not_applicable_reason = c.value("not_applicable_reason", "not applicable");
            id.order = c.value("order", 0);
            for (const auto& r : c.at("runs")) cell.runs.push_back(run_from(r, where + " " + std::string(to_string(id.method))));
            id.repeat = static_cast<int>(cell.runs.size());
            judge_cell(cell);
            out.cells.push_back(std::move(cell));
        }
    } catch (const std::invalid_argument& e) {  // an unknown word, said by known()
        return error(file.string() + ": " + e.what());
    } catch (const std::exception& e) {
        return error(file.string() + ": malformed results (" + one_line(e.what(), 300) + ")");
    }
    return out;
}

namespace {

// Files from before run ids were written: their start and command tell runs apart.
std::string run_of(const LoadedResults& r) {
    return r.context.run_id.empty() ? r.context.started_at + " " + r.context.command : r.context.run_id;
}

std::string shard_text(std::pair<int, int> s) { return std::to_string(s.first) + "/" + std::to_string(s.second); }

}  // namespace

Status check_mergeable(const std::vector<LoadedResults>& parts, bool allow_partial) {
    std::map<std::string, const LoadedResults*> seen;  // run and shard -> first file
    const LoadedResults* first_shard = nullptr;
    std::set<int> ks;
    for (const auto& p : parts) {
        const std::string id = run_of(p) + (p.context.shard ? " shard " + shard_text(*p.context.shard) : "");
        if (auto [it, fresh] = seen.emplace(id, &p); !fresh)
            return error(p.file.string() + " holds the same results as " + it->second->file.string() +
                         " (run " + run_of(p) + "): give each file once");
        if (!p.context.shard) continue;
        if (!first_shard) first_shard = &p;
        if (run_of(p) != run_of(*first_shard))
            return error("mixed runs: " + first_shard->file.string() + " is a shard of run " + run_of(*first_shard) +
                         ", " + p.file.string() + " of run " + run_of(p) + " (merge the shards of one run)");
        if (p.context.shard->second != first_shard->context.shard->second)
            return error(p.file.string() + " is shard " + shard_text(*p.context.shard) + ", " +
                         first_shard->file.string() + " shard " + shard_text(*first_shard->context.shard) +
                         ": not one matrix");
        ks.insert(p.context.shard->first);
    }
    if (first_shard && std::any_of(parts.begin(), parts.end(), [](const auto& p) { return !p.context.shard; }))
        return error("shards and whole runs mixed: merge either the shards of one run, or whole runs");
    if (first_shard && !allow_partial) {
        const int n = first_shard->context.shard->second;
        std::string missing;
        for (int k = 1; k <= n; ++k)
            if (!ks.count(k)) missing += (missing.empty() ? "" : ", ") + shard_text({k, n});
        if (!missing.empty())
            return error("shards missing: " + missing + " of run " + run_of(*first_shard) +
                         " (add --allow-partial to merge the ones given)");
    }
    return {};
}

LoadedResults merge_results(std::vector<LoadedResults> parts) {
    if (parts.size() == 1) return std::move(parts.front());
    LoadedResults out;
    // One run's shards merge into that run; repeated runs pool into none of them.
    const bool one_run = std::all_of(parts.begin(), parts.end(), [&](const LoadedResults& p) {
        return p.context.shard && run_of(p) == run_of(parts.front());
    });
    if (one_run) out.context.run_id = parts.front().context.run_id;
    else out.context.run_id = new_run_id();
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
