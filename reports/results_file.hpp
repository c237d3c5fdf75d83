// The one writer of results.json (and --json) and of each run's run.json: fed by the
// runner as runs and cells finish, so an interrupted or killed harness keeps every
// finished cell, and used the same way by `hangar report` for a merged set.
#pragma once

#include <filesystem>
#include <vector>

#include "hangar/runner.hpp"
#include "results_json.hpp"

namespace hangar::reports {

class ResultsFile : public RunObserver {
public:
    // `targets`: every path results.json is kept at (the session folder's, --json's).
    ResultsFile(std::vector<std::filesystem::path> targets, RunContext context);

    // Writes the run's run.json into its folder as soon as it ends.
    void run_finished(const Cell& cell, const RunRecord& record) override;
    // Rewrites results.json (marked incomplete) with the cell in matrix order.
    void cell_finished(const CellResult& cell) override;

    // Replaces the cells (a merged set); nothing is written until finish().
    void set_cells(std::vector<CellResult> cells);
    // The last write, marked complete or not. The first write error, if any.
    Status finish(bool complete);

    const std::vector<CellResult>& cells() const { return cells_; }
    const RunContext& context() const { return context_; }
    // The first write error so far (every later write is still tried).
    const Status& status() const { return status_; }

private:
    void write();
    void note(const Status& s);

    std::vector<std::filesystem::path> targets_;
    RunContext context_;
    std::vector<CellResult> cells_;
    Status status_;
};

}  // namespace hangar::reports
