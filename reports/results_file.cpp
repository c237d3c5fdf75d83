#include "results_file.hpp"

#include <algorithm>

#include "hangar/atomic_file.hpp"

namespace hangar::reports {

ResultsFile::ResultsFile(std::vector<std::filesystem::path> targets, RunContext context)
    : targets_(std::move(targets)), context_(std::move(context)) {
    context_.complete = false;
}

void ResultsFile::run_finished(const Cell& cell, const RunRecord& record) {
    note(write_file_atomically(record.evidence / "run.json", json_text(run_file_json(cell, record)) + "\n"));
}

void ResultsFile::cell_finished(const CellResult& cell) {
    // Cells finish out of order with -j; the file keeps the matrix's order.
    auto at = std::upper_bound(cells_.begin(), cells_.end(), cell.cell.order,
                               [](int order, const CellResult& c) { return order < c.cell.order; });
    cells_.insert(at, cell);
    write();
}

void ResultsFile::set_cells(std::vector<CellResult> cells) { cells_ = std::move(cells); }

Status ResultsFile::finish(bool complete) {
    context_.complete = complete;
    write();
    return status_;
}

void ResultsFile::write() {
    const std::string text = json_text(results_to_json(cells_, context_)) + "\n";
    for (const auto& t : targets_) note(write_file_atomically(t, text));
}

void ResultsFile::note(const Status& s) {
    if (!s && status_) status_ = s;
}

}  // namespace hangar::reports
