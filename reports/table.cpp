#include "table.hpp"

#include "trace.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

namespace hangar::reports {

std::string render_table(const std::vector<CellResult>& cells) {
    std::vector<std::string> columns;  // "method" or "method/sanitizer", in first-seen order
    std::vector<std::string> rows;
    std::map<std::pair<std::string, std::string>, std::string> text;
    // A rate's interval would triple a cell's width: it goes in a numbered line below.
    std::vector<std::string> rates;
    for (const auto& c : cells) {
        const std::string column = c.cell.column(), row = c.cell.scenario_id();
        if (std::find(columns.begin(), columns.end(), column) == columns.end()) columns.push_back(column);
        if (std::find(rows.begin(), rows.end(), row) == rows.end()) rows.push_back(row);
        if (c.outcome() == Outcome::not_applicable) {
            text[{row, column}] = std::string(label(Outcome::not_applicable).shout);
            continue;
        }
        std::string cell = c.summary();
        if (c.hazards_checked())
            cell += ", hazard " + std::to_string(c.hazard_runs()) + "/" + std::to_string(c.runs.size());
        if (c.cell.expect.stochastic()) {
            Interval ci = c.hang_rate_ci95();
            char rate[160];
            std::snprintf(rate, sizeof rate, "hang rate %.2f (95%% CI %.2f-%.2f), floor %.2f", c.hang_rate(), ci.low,
                          ci.high, c.cell.expect.min_hang_rate);
            rates.push_back("[" + std::to_string(rates.size() + 1) + "] " + row + " " + column + ": " + rate);
            cell += " [" + std::to_string(rates.size()) + "]";
        }
        if (c.cell.expect.starts && !c.runs.empty()) {
            auto [lo, hi] = std::minmax_element(c.runs.begin(), c.runs.end(), [](const RunRecord& a, const RunRecord& b) {
                return a.workflow_starts < b.workflow_starts;
            });
            cell += " (starts " + std::to_string(lo->workflow_starts) +
                    (lo->workflow_starts == hi->workflow_starts ? "" : "-" + std::to_string(hi->workflow_starts)) + ")";
        }
        if (const std::string starts = child_starts_text(c); !starts.empty()) cell += " (children: " + starts + ")";
        for (const std::string& note : {method_mismatch(c), reimport_sentence(c)}) {
            if (note.empty()) continue;
            rates.push_back("[" + std::to_string(rates.size() + 1) + "] " + row + " " + column + ": " + note);
            cell += " [" + std::to_string(rates.size()) + "]";
        }
        if (!c.finding_counts().empty()) {
            int reports = 0;
            for (auto [what, n] : c.finding_counts()) reports += n;
            cell += " [" + std::to_string(reports) + " sanitizer reports]";
        }
        text[{row, column}] = cell + " " + std::string(label(c.outcome()).shout);
    }
    std::vector<size_t> width(columns.size() + 1, 0);
    width[0] = std::string("scenario").size();
    for (const auto& r : rows) width[0] = std::max(width[0], r.size());
    for (size_t i = 0; i < columns.size(); ++i) {
        width[i + 1] = std::max<size_t>(columns[i].size(), 1);
        for (const auto& r : rows) {
            auto it = text.find({r, columns[i]});
            if (it != text.end()) width[i + 1] = std::max(width[i + 1], it->second.size());
        }
    }
    auto pad = [](const std::string& s, size_t w) { return s + std::string(w > s.size() ? w - s.size() : 0, ' '); };
    auto trimmed = [](std::string line) {
        while (!line.empty() && line.back() == ' ') line.pop_back();
        return line + "\n";
    };
    std::string header = pad("scenario", width[0]);
    for (size_t i = 0; i < columns.size(); ++i) header += "  " + pad(columns[i], width[i + 1]);
    std::string out = trimmed(header);
    for (const auto& r : rows) {
        std::string line = pad(r, width[0]);
        for (size_t i = 0; i < columns.size(); ++i) {
            auto it = text.find({r, columns[i]});
            line += "  " + pad(it == text.end() ? "-" : it->second, width[i + 1]);
        }
        out += trimmed(line);
    }
    for (const auto& r : rates) out += r + "\n";
    return out + totals_line(tally(cells)) + "\n";
}

}  // namespace hangar::reports
