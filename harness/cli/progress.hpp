// Progress of a long `hangar run`, on stderr: a live status line on a terminal, one
// plain line per finished cell otherwise (CI logs, pipes).
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include "hangar/runner.hpp"

namespace hangar::cli {

class Progress : public RunObserver {
public:
    Progress(int total_cells, int total_runs, bool terminal, std::FILE* out = stderr);

    void run_started(const Cell& cell, int run) override;
    void run_finished(const Cell& cell, const RunRecord& record) override;
    void cell_finished(const CellResult& cell) override;

    // Clears the live line so the next output starts on a clean line.
    void finish();

private:
    double elapsed() const;
    void status_line(const std::string& what);

    int total_cells_, total_runs_;
    int cells_done_ = 0, runs_done_ = 0;
    bool terminal_;
    std::FILE* out_;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace hangar::cli
