// `hangar run`: the comparison. Runs every selected cell, prints the table, writes the
// results JSON after every finished cell so an interrupted run keeps what it finished.
#include <fcntl.h>
#include <signal.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <gnu/libc-version.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <mutex>
#include <thread>

#include "commands.hpp"
#include "hangar/atomic_file.hpp"
#include "hangar/progress.hpp"
#include "hangar/runner.hpp"
#include "results_json.hpp"
#include "table.hpp"

namespace hangar::cli {
namespace {

std::string utc_now(const char* format) {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, format, &tm);
    return buf;
}

nlohmann::json environment(const std::string& python) {
    utsname u{};
    uname(&u);
    return {
        {"kernel", std::string(u.sysname) + " " + u.release},
        {"machine", u.machine},
        {"glibc", gnu_get_libc_version()},
        {"compiler", __VERSION__},
        {"python", python},
        {"cpus", std::thread::hardware_concurrency()},
    };
}

// Keeps results.json (and --json) current: rewritten whole, atomically, after every
// finished cell; each run's own run.json is written as soon as the run ends.
class ResultsWriter : public RunObserver {
public:
    ResultsWriter(std::vector<std::filesystem::path> targets, reports::RunContext context)
        : targets_(std::move(targets)), context_(std::move(context)) {}

    void run_finished(const CellResult& cell, const RunRecord& record) override {
        nlohmann::json run = reports::run_to_json(record);
        run["scenario"] = cell.cell.family->name;
        run["variant"] = cell.cell.variant->name;
        run["method"] = to_string(cell.cell.method);
        run["sanitizer"] = cell.cell.sanitizer;
        note(write_file_atomically(record.evidence / "run.json", run.dump(2) + "\n"));
    }

    void cell_finished(const CellResult& cell) override {
        cells_.push_back(cell);
        write(false);
    }

    void write(bool complete) {
        context_.complete = complete;
        std::string text = reports::results_to_json(cells_, context_).dump(2) + "\n";
        for (const auto& t : targets_) note(write_file_atomically(t, text));
    }

    const std::vector<CellResult>& cells() const { return cells_; }
    bool failed() const { return failed_; }

private:
    void note(const Status& s) {
        if (s) return;
        if (!failed_) complain(s.error().message);
        failed_ = true;
    }

    std::vector<std::filesystem::path> targets_;
    reports::RunContext context_;
    std::vector<CellResult> cells_;
    bool failed_ = false;
};

class Observers : public RunObserver {
public:
    explicit Observers(std::vector<RunObserver*> all) : all_(std::move(all)) {}
    void run_started(const Cell& c, int r) override {
        for (auto* o : all_) o->run_started(c, r);
    }
    void run_finished(const CellResult& c, const RunRecord& r) override {
        for (auto* o : all_) o->run_finished(c, r);
    }
    void cell_finished(const CellResult& c) override {
        for (auto* o : all_) o->cell_finished(c);
    }

private:
    std::vector<RunObserver*> all_;
};

// The --json file must be writable before anything runs, without creating it yet.
Status check_json_target(const std::string& json) {
    if (json.empty()) return {};
    auto dir = std::filesystem::absolute(json).parent_path();
    std::error_code ec;
    if (std::filesystem::is_directory(json, ec)) return error("--json " + json + " is a folder; give a file name");
    if (!std::filesystem::is_directory(dir, ec)) return error("--json: folder " + dir.string() + " does not exist");
    if (access(dir.c_str(), W_OK | X_OK) != 0) return error("--json: cannot write in " + dir.string());
    return {};
}

// OUT/<stamp>/ for this run, and OUT/latest pointing at it, so a later run never
// overwrites the evidence of an earlier one.
Result<std::filesystem::path> make_session_dir(const std::filesystem::path& out) {
    if (auto s = check_writable_dir(out); !s) return s.error();
    std::string stamp = utc_now("%Y%m%dT%H%M%SZ") + "-" + std::to_string(getpid());
    auto session = out / stamp;
    std::error_code ec;
    std::filesystem::create_directories(session, ec);
    if (ec) return error("cannot create " + session.string() + ": " + ec.message());
    auto tmp = out / (".latest." + std::to_string(getpid()));
    std::filesystem::remove(tmp, ec);
    std::filesystem::create_directory_symlink(stamp, tmp, ec);
    if (!ec) std::filesystem::rename(tmp, out / "latest", ec);
    return session;
}

}  // namespace

void add_run_command(CLI::App& app, RunOptions& o) {
    auto* run = app.add_subcommand("run", "run scenario variants under each start method and compare them");
    run->add_option("scenarios", o.scenarios, "FAMILY or FAMILY/VARIANT to run (default: all; see hangar list)");
    run->add_option("--method", o.methods, "start methods, comma-separated (default: each variant's own)")
        ->delimiter(',')
        ->check(CLI::IsMember({"fork", "spawn", "forkserver"}));
    run->add_option("--timeout", o.timeout, "seconds a run may take before it counts as a hang")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    run->add_option("--repeat", o.repeat, "runs per cell (default: the manifest's, 1 unless it says more)")
        ->check(CLI::Range(1, 100000));
    run->add_option("-j,--jobs", o.jobs, "runs at once (timing-sensitive races change with load)")
        ->capture_default_str()
        ->check(CLI::Range(1, 256));
    run->add_option("--out", o.out, "output folder; each run writes OUT/<time>-<pid>/ and points OUT/latest at it")
        ->capture_default_str();
    run->add_option("--json", o.json, "also write the results JSON (schema hangar.results/1) to FILE");
    run->add_flag("-q,--quiet", o.quiet, "no progress lines");
}

int run_run(const GlobalOptions& global, const RunOptions& o, const std::string& command_line) {
    Catalog catalog = load_catalog(global.scenarios_dir);
    for (const auto& e : catalog.errors) complain("manifest error: " + e.message);

    std::vector<Method> methods;
    for (const auto& m : o.methods) methods.push_back(*parse_method(m));
    auto cells = select_cells(catalog, o.scenarios, methods, o.repeat > 0 ? std::optional(o.repeat) : std::nullopt);
    if (!cells) {
        complain(cells.error().message);
        return kExitUsage;
    }

    RunnerConfig config;
    config.python = resolve_python(global);
    config.scenario_bin_dir = global.scenario_bin_dir;
    config.limit = std::chrono::milliseconds(static_cast<long>(o.timeout * 1000));
    config.jobs = o.jobs;
    if (auto s = check_runnable(*cells, config); !s) {
        complain(s.error().message);
        return kExitUsage;
    }
    if (auto s = check_json_target(o.json); !s) {
        complain(s.error().message);
        return kExitUsage;
    }
    auto session = make_session_dir(o.out);
    if (!session) {
        complain(session.error().message);
        return kExitUsage;
    }
    config.evidence_root = std::filesystem::absolute(*session);
    Interrupt& interrupt = Interrupt::on_signals();
    config.interrupt = &interrupt;

    std::vector<std::filesystem::path> targets{*session / "results.json"};
    if (!o.json.empty()) targets.emplace_back(o.json);
    reports::RunContext context{utc_now("%Y-%m-%dT%H:%M:%SZ"), command_line, environment(config.python), false};
    ResultsWriter writer(targets, context);
    int total_runs = 0;
    for (const auto& c : *cells) total_runs += c.repeat;
    Progress progress(static_cast<int>(cells->size()), total_runs, isatty(STDERR_FILENO) != 0);
    std::vector<RunObserver*> observers{&writer};
    if (!o.quiet) observers.push_back(&progress);
    Observers all(observers);

    auto results = run_cells(*cells, config, all);
    if (!o.quiet) progress.finish();
    if (!results) {
        complain(results.error().message);
        return kExitUsage;
    }
    writer.write(!interrupt.requested());
    std::fputs(reports::render_table(*results).c_str(), stdout);
    std::printf("results: %s\n", (*session / "results.json").c_str());
    std::fflush(stdout);

    if (interrupt.requested()) {
        complain("interrupted: kept the " + std::to_string(results->size()) + " cells that finished");
        return 128 + interrupt.signal_number();
    }
    if (!catalog.errors.empty() || writer.failed()) return kExitUsage;
    bool all_met = std::all_of(results->begin(), results->end(), [](const CellResult& c) { return c.judgement.met; });
    return all_met ? kExitOk : kExitMissed;
}

}  // namespace hangar::cli
