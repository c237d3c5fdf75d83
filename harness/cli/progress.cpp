#include "progress.hpp"

namespace hangar::cli {

Progress::Progress(int total_cells, int total_runs, bool terminal, std::FILE* out)
    : total_cells_(total_cells), total_runs_(total_runs), terminal_(terminal), out_(out) {}

double Progress::elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::status_line(const std::string& what) {
    if (!terminal_) return;
    std::fprintf(out_, "\r\033[K[%d/%d cells, %d/%d runs, %.1fs] %s", cells_done_, total_cells_, runs_done_,
                 total_runs_, elapsed(), what.c_str());
    std::fflush(out_);
}

void Progress::run_started(const Cell& cell, int run) {
    status_line(cell.label() + " run " + std::to_string(run) + "/" + std::to_string(cell.repeat));
}

void Progress::run_finished(const Cell& cell, const RunRecord& record) {
    ++runs_done_;
    status_line(cell.label() + ": " + std::string(to_string(record.verdict)));
}

void Progress::cell_finished(const CellResult& cell) {
    ++cells_done_;
    std::string line = "[" + std::to_string(cells_done_) + "/" + std::to_string(total_cells_) + "] " +
                       cell.cell.label() + ": " + cell.summary();
    switch (cell.outcome()) {
        case Outcome::met: line += " (met)"; break;
        case Outcome::not_applicable: line += " (" + cell.cell.not_applicable_reason + ")"; break;
        case Outcome::missed:
        case Outcome::undecided:
            line += " (" + std::string(label(cell.outcome()).shout) + ": " + cell.judgement.why + ")";
    }
    char when[32];
    std::snprintf(when, sizeof when, " %.1fs", elapsed());
    if (terminal_) std::fprintf(out_, "\r\033[K%s%s\n", line.c_str(), when);
    else std::fprintf(out_, "%s%s\n", line.c_str(), when);
    std::fflush(out_);
}

void Progress::finish() {
    if (terminal_) std::fprintf(out_, "\r\033[K");
    std::fflush(out_);
}

}  // namespace hangar::cli
