// What runs and cells came to: the data every report is rendered from.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <vector>

#include "hangar/events.hpp"
#include "hangar/expectation.hpp"
#include "hangar/findings.hpp"
#include "hangar/matrix.hpp"
#include "hangar/stats.hpp"
#include "hangar/verdict.hpp"

namespace hangar {

struct RunRecord {
    Verdict verdict = Verdict::pass;
    double seconds = 0;
    std::optional<int> exit_code;  // set when the command exited
    std::optional<int> signal;     // set when it was killed by a signal we did not send
    std::filesystem::path evidence;  // the run's folder: stdout.txt, stderr.txt, run.json
    int workflow_starts = 0;         // HANGAR-WORKFLOW-START lines in its output
    // Hangs only: from when the tree stopped progressing (deadlock) or from the start
    // (timeout) to the verdict; and where the hung thread waits.
    std::optional<long> time_to_verdict_ms;
    std::string signature;
    double started_s = 0;  // when the run started, seconds since the harness run began
    std::vector<Finding> findings;  // sanitizer reports in its stderr
    // --rr: the kept trace (hangs and failures) or why there is none.
    std::string rr_trace;
    std::string rr_note;
    // Set when stdout or stderr was longer than --max-output: how long each really was.
    struct OutputCut {
        uint64_t stdout_bytes = 0, stderr_bytes = 0, kept = 0;  // kept: per stream
    };
    std::optional<OutputCut> output_cut;
    // --hazards: what the fork-hazard detector (preload/) saw; unset when not asked for.
    struct Hazards {
        bool checked = false;  // it ran in the run's command
        std::string note;      // why it did not, or what it could not do
        int forks = 0;         // forks whose child ran on while another thread held a lock
        std::vector<ForkHazard> shown;  // the first of them
    };
    std::optional<Hazards> hazards;
    // Where hangar's Python start-up hook ran: what each child was started with, and what
    // of the main script children re-ran (spawn and forkserver re-import it).
    struct PythonTrace {
        int processes = 0;                        // Python processes the hook ran in
        int main_runs = 0;                        // of them, running the main script's top level
        std::map<std::string, int> child_starts;  // start method really used -> children
        int reimporting_children = 0;
        std::vector<RunEvents::Line> reimported;  // the main script's lines they re-ran
    };
    std::optional<PythonTrace> python;

    // Whether this run showed a fork hazard; unset when the detector did not run in it.
    std::optional<bool> had_hazard() const {
        if (!hazards || !hazards->checked) return std::nullopt;
        return hazards->forks > 0;
    }
};

struct CellResult {
    Cell cell;
    std::vector<RunRecord> runs;
    Judgement judgement;

    Outcome outcome() const { return judgement.outcome; }
    std::map<Verdict, int> counts() const;
    int hangs() const;
    // Hang signature -> number of runs; hangs whose stack could not be read count as "".
    std::map<std::string, int> signatures() const;
    // "TOOL: summary" -> number of reports over all runs.
    std::map<std::string, int> finding_counts() const;
    // The observed verdict counts: "timeout 3/3", "pass 2/3, fail 1/3".
    std::string summary() const;

    double hang_rate() const;
    Interval hang_rate_ci95() const;

    // --hazards: whether the detector ran in every run, in how many it saw a hazard, and
    // which ("held lock in logging/__init__.py:emit" -> runs).
    bool hazards_checked() const;
    int hazard_runs() const;
    double hazard_rate() const;
    Interval hazard_rate_ci95() const;
    std::map<std::string, int> hazard_signatures() const;
    std::vector<double> times_to_verdict_ms() const;  // of the hangs
    // From the first run's start to the last run's end: with -j, less than the sum.
    double wall_seconds() const;
};

// Judges `cell` against its expectation from its runs: the one place a cell's outcome is
// decided (a cell that is not applicable is that, whatever its runs).
void judge_cell(CellResult& cell);

// How many cells came to each outcome, and how many misses of each kind.
struct Totals {
    int cells = 0, met = 0, missed = 0, undecided = 0, not_applicable = 0;
    int regressions = 0, no_longer_reproduces = 0, other_misses = 0;

    bool all_met() const { return missed == 0 && undecided == 0; }  // not applicable counts as met
};
Totals tally(const std::vector<CellResult>& cells);

// "17 cells met, 0 missed, 1 undecided (more runs needed), 6 not applicable"
std::string totals_line(const Totals& t);

}  // namespace hangar
