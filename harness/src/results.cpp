#include "hangar/results.hpp"

namespace hangar {

std::map<Verdict, int> CellResult::counts() const {
    std::map<Verdict, int> c;
    for (const auto& r : runs) ++c[r.verdict];
    return c;
}

int CellResult::hangs() const {
    int n = 0;
    for (const auto& r : runs) n += is_hang(r.verdict);
    return n;
}

std::map<std::string, int> CellResult::signatures() const {
    std::map<std::string, int> s;
    for (const auto& r : runs)
        if (is_hang(r.verdict)) ++s[r.signature];
    return s;
}

std::string CellResult::summary() const {
    std::string out;
    for (auto [verdict, k] : counts())
        out += (out.empty() ? "" : ", ") + std::string(to_string(verdict)) + " " + std::to_string(k) + "/" +
               std::to_string(runs.size());
    return out.empty() ? "no runs" : out;
}

void judge_cell(CellResult& cell) {
    std::vector<RunFacts> facts;
    for (const auto& r : cell.runs) facts.push_back({r.verdict, r.workflow_starts});
    cell.judgement = judge(cell.cell.expect(), facts);
}

}  // namespace hangar
