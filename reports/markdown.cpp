#include "markdown.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

#include "hangar/text.hpp"
#include "trace.hpp"

namespace hangar::reports {
namespace {

std::string pipe_safe(std::string_view s) {
    std::string out;
    for (char ch : s) out += ch == '|' ? std::string("\\|") : std::string(1, ch);
    return out;
}

// Text from a run in a table cell or list item: one line, no HTML, pipes escaped.
std::string md_text(std::string_view s) {
    std::string out;
    for (char ch : one_line(s, 2000)) {
        switch (ch) {
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '&': out += "&amp;"; break;
            default: out += ch;
        }
    }
    return pipe_safe(out);
}

// Text in a code span: one line, pipes escaped, fenced with more backticks than any run
// of them inside it.
std::string md_code(std::string_view s) {
    const std::string text = pipe_safe(one_line(s, 2000));
    size_t longest = 0, run = 0;
    for (char ch : text) longest = std::max(longest, run = ch == '`' ? run + 1 : 0);
    const std::string fence(longest + 1, '`');
    const bool pad = longest > 0 || text.empty();
    return fence + (pad ? " " : "") + text + (pad ? " " : "") + fence;
}

std::string cell_text(const CellResult& c) {
    if (c.outcome() == Outcome::not_applicable) return std::string(label(Outcome::not_applicable).mark);
    std::string text = std::string(label(c.outcome()).mark) + " " + c.summary();
    const Expectation& e = c.cell.expect;
    if (c.hangs() > 0 || e.kind == Expectation::Kind::hang || e.stochastic()) {
        Interval ci = c.hang_rate_ci95();
        char rate[80];
        std::snprintf(rate, sizeof rate, "<br>hang rate %.0f%% (95%% CI %.0f-%.0f%%)", 100 * c.hang_rate(), 100 * ci.low,
                      100 * ci.high);
        text += rate;
    }
    if (c.hazards_checked()) {
        const Interval h = c.hazard_rate_ci95();
        char rate[96];
        std::snprintf(rate, sizeof rate, "<br>fork hazard in %d/%zu runs (95%% CI %.0f-%.0f%%)", c.hazard_runs(),
                      c.runs.size(), 100 * h.low, 100 * h.high);
        text += rate;
    }
    if (const std::string starts = child_starts_text(c); !starts.empty()) text += "<br>children: " + md_text(starts);
    for (const std::string& note : {method_mismatch(c), reimport_sentence(c)})
        if (!note.empty()) text += "<br>" + md_text(note);
    return text + "<br>expect " + md_code(e.text);
}

// Each cell's hazards, with both sides of the first: where the forked child waited (the
// hang's signature), and what the parent's thread was doing while it held the lock.
std::string hazards_section(const std::vector<CellResult>& cells) {
    std::string out;
    for (const auto& c : cells) {
        for (const auto& [sig, n] : c.hazard_signatures())
            out += "- " + md_code(c.cell.key()) + ": " + md_code(sig) + " in " + std::to_string(n) + "/" +
                   std::to_string(c.runs.size()) + " runs\n";
        for (const auto& r : c.runs) {
            if (!r.hazards || r.hazards->shown.empty()) continue;
            const ForkHazard& f = r.hazards->shown.front();
            for (const auto& held : f.held) {
                out += "  - fork in pid " + std::to_string(f.parent) + " (thread " + md_text(f.thread) + ") while thread " +
                       std::to_string(held.holder_tid) + " " + md_code(held.holder) + " " + md_text(held.signature);
                if (!held.python.empty()) out += ", at " + md_code(held.python.front());
                else if (!held.native.empty()) out += ", at " + md_code(held.native.front());
                out += held.child_waited ? "; the child then waited for it" : "";
                if (held.child_waited && is_hang(r.verdict))
                    out += ", hung in " + md_code(r.signature.empty() ? "(no stack)" : r.signature);
                out += "\n";
            }
            break;  // one run's detail per cell
        }
    }
    return out.empty() ? "" : "\n## Fork hazards\n\n" + out;
}

}  // namespace

std::string reproduce_command(const CellResult& c) {
    std::string cmd = "build/hangar run " + c.cell.scenario_id() + " --method " + std::string(to_string(c.cell.method));
    if (c.cell.sanitizer != Sanitizer::none) cmd += " --sanitizer " + std::string(to_string(c.cell.sanitizer));
    if (c.cell.expect.stochastic()) cmd += " --repeat " + std::to_string(std::max<size_t>(c.runs.size(), 30));
    return cmd;
}

std::string render_markdown(const std::vector<CellResult>& cells, const RunContext& context) {
    std::vector<std::string> columns, rows;
    std::map<std::pair<std::string, std::string>, std::string> text;
    for (const auto& c : cells) {
        const std::string column = c.cell.column();
        if (std::find(columns.begin(), columns.end(), column) == columns.end()) columns.push_back(column);
        if (std::find(rows.begin(), rows.end(), c.cell.scenario_id()) == rows.end()) rows.push_back(c.cell.scenario_id());
        text[{c.cell.scenario_id(), column}] = cell_text(c);
    }
    std::string out = "# hangar: " + totals_line(tally(cells)) + "\n\n";
    out += md_code(context.command) + " at " + md_text(context.started_at) + (context.complete ? "" : " (incomplete)") +
           "\n\n";
    out += "| scenario |";
    for (const auto& col : columns) out += " " + col + " |";
    out += "\n|---|";
    for (size_t i = 0; i < columns.size(); ++i) out += "---|";
    out += "\n";
    for (const auto& r : rows) {
        out += "| " + md_code(r) + " |";
        for (const auto& col : columns) {
            auto it = text.find({r, col});
            out += " " + (it == text.end() ? std::string("-") : it->second) + " |";
        }
        out += "\n";
    }

    std::map<Miss, std::vector<const CellResult*>> misses;
    std::vector<const CellResult*> undecided_cells;
    for (const auto& c : cells) {
        if (c.outcome() == Outcome::undecided) undecided_cells.push_back(&c);
        else if (c.outcome() == Outcome::missed) misses[c.judgement.miss].push_back(&c);
    }
    auto section = [&](const std::string& title, const std::vector<const CellResult*>& list) {
        if (list.empty()) return;
        out += "\n## " + title + " (" + std::to_string(list.size()) + ")\n\n";
        for (const auto* c : list) {
            out += "- " + md_code(c->cell.key()) + ": " + md_text(c->judgement.why) + ". Reproduce: " +
                   md_code(reproduce_command(*c)) + "\n";
            for (const auto& r : c->runs)
                if (r.verdict != Verdict::pass) {
                    out += "  - evidence: " + md_code(r.evidence.string()) + "\n";
                    break;
                }
        }
    };
    section("Regressions: an expected pass hung", misses[Miss::regression]);
    section("No longer reproduces: an expected hang did not happen", misses[Miss::no_longer_reproduces]);
    section("Other misses", misses[Miss::other]);
    section("Undecided: more runs needed", undecided_cells);

    std::string sigs;
    for (const auto& c : cells)
        for (auto [sig, n] : c.signatures())
            sigs += "| " + md_code(c.cell.key()) + " | " + md_code(sig.empty() ? "(no stack)" : sig) + " | " +
                    std::to_string(n) + " |\n";
    if (!sigs.empty()) out += "\n## Hang signatures\n\n| cell | signature | runs |\n|---|---|---|\n" + sigs;
    return out + hazards_section(cells);
}

}  // namespace hangar::reports
