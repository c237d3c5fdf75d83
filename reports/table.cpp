#include "table.hpp"

#include <algorithm>
#include <map>

namespace hangar::reports {

std::string render_table(const std::vector<CellResult>& cells) {
    std::vector<std::string> columns;  // "method" or "method/sanitizer", in first-seen order
    std::vector<std::string> rows;
    std::map<std::pair<std::string, std::string>, std::string> text;
    int met = 0;
    for (const auto& c : cells) {
        std::string column(to_string(c.cell.method));
        if (c.cell.sanitizer != "none") column += "/" + c.cell.sanitizer;
        std::string row = c.cell.scenario_id();
        if (std::find(columns.begin(), columns.end(), column) == columns.end()) columns.push_back(column);
        if (std::find(rows.begin(), rows.end(), row) == rows.end()) rows.push_back(row);
        text[{row, column}] = c.summary() + (c.judgement.met ? " met" : " MISSED");
        met += c.judgement.met;
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
    out += std::to_string(met) + " cells met, " + std::to_string(cells.size() - met) + " missed\n";
    return out;
}

}  // namespace hangar::reports
