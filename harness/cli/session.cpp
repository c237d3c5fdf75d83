#include "session.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <gnu/libc-version.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <thread>

#include "commands.hpp"
#include "hangar/atomic_file.hpp"
#include "hangar/watchdog.hpp"
#include "progress.hpp"
#include "report_set.hpp"
#include "table.hpp"

namespace hangar::cli {


std::string utc_now(const char* format) {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, format, &tm);
    return buf;
}

// Native scenarios are built by the same compiler as hangar.
#if defined(__clang__)
constexpr const char* kCompiler = "clang++ " __clang_version__;
#else
constexpr const char* kCompiler = "g++ " __VERSION__;
#endif

nlohmann::json environment(const std::string& python, const std::vector<Sanitizer>& sanitizers) {
    std::vector<std::string> asked{"none"};
    if (!sanitizers.empty()) asked.clear();
    for (Sanitizer s : sanitizers) asked.emplace_back(to_string(s));
    utsname u{};
    uname(&u);
    nlohmann::json env = {
        {"kernel", std::string(u.sysname) + " " + u.release},
        {"machine", u.machine},
        {"glibc", gnu_get_libc_version()},
        {"compiler", kCompiler},
        {"cpus", std::thread::hardware_concurrency()},
        {"sanitizers", asked},
    };
    if (!python.empty()) {
        env["python"] = python;
        auto version = run_helper({python, "--version"}, std::filesystem::temp_directory_path(),
                                  std::chrono::seconds(10));
        std::string v = !version ? "unknown (" + version.error().message + ")" : version->out + version->err;
        while (!v.empty() && v.back() == '\n') v.pop_back();
        env["python_version"] = v;
    }
    return env;
}

Status check_json_target(const std::string& json) {
    if (json.empty()) return {};
    auto dir = std::filesystem::absolute(json).parent_path();
    std::error_code ec;
    if (std::filesystem::is_directory(json, ec)) return error("--json " + json + " is a folder; give a file name");
    if (!std::filesystem::is_directory(dir, ec)) return error("--json: folder " + dir.string() + " does not exist");
    if (access(dir.c_str(), W_OK | X_OK) != 0) return error("--json: cannot write in " + dir.string());
    return {};
}

namespace {

Result<std::filesystem::path> make_session_dir(const std::filesystem::path& out) {
    // OUT/latest is hangar's link to the newest run; anything else there would silently
    // stop pointing at it.
    std::error_code ec;
    const auto latest = std::filesystem::symlink_status(out / "latest", ec).type();
    if (latest != std::filesystem::file_type::not_found && latest != std::filesystem::file_type::symlink)
        return error((out / "latest").string() + " is not hangar's link to the newest run: move it away, or use another --out");
    if (auto s = check_writable_dir(out); !s) return s.error();
    std::string stamp = utc_now("%Y%m%dT%H%M%SZ") + "-" + std::to_string(getpid());
    auto session = out / stamp;
    std::filesystem::create_directories(session, ec);
    if (ec) return error("cannot create " + session.string() + ": " + ec.message());
    auto tmp = out / (".latest." + std::to_string(getpid()));
    std::filesystem::remove(tmp, ec);
    std::filesystem::create_directory_symlink(stamp, tmp, ec);
    if (!ec) std::filesystem::rename(tmp, out / "latest", ec);
    return std::filesystem::absolute(session);
}

}  // namespace

Result<Session> open_session(const std::vector<Cell>& cells, const RunnerConfig& config, const std::string& out,
                             const std::string& json) {
    if (auto s = check_runnable(cells, config); !s) return s.error();
    if (auto s = check_json_target(json); !s) return s.error();
    auto dir = make_session_dir(out);
    if (!dir) return dir.error();
    Session session{*dir, {*dir / "results.json"}};
    if (!json.empty()) session.results.emplace_back(json);
    return session;
}

Status finish_reports(const Session& session, const reports::ResultsFile& results, const std::string& history,
                      bool append) {
    std::vector<reports::HistoryEntry> entries;
    if (!history.empty()) {
        if (append)
            if (auto s = reports::append_history(history, results.cells(), results.context()); !s) return s;
        auto read = reports::read_history(history);
        if (!read) return read.error();
        entries = std::move(*read);
    }
    return reports::write_reports(session.dir, results.cells(), results.context(), entries);
}

namespace {

class Observers : public RunObserver {
public:
    explicit Observers(std::vector<RunObserver*> all) : all_(std::move(all)) {}
    void run_started(const Cell& c, int r) override {
        for (auto* o : all_) o->run_started(c, r);
    }
    void run_finished(const Cell& c, const RunRecord& r) override {
        for (auto* o : all_) o->run_finished(c, r);
    }
    void cell_finished(const CellResult& c) override {
        for (auto* o : all_) o->cell_finished(c);
    }

private:
    std::vector<RunObserver*> all_;
};

int total_runs(const std::vector<Cell>& cells) {
    int n = 0;
    for (const auto& c : cells) n += c.applicable() ? c.repeat : 0;
    return n;
}

}  // namespace

Result<MatrixRun> run_matrix(const std::vector<Cell>& cells, const RunnerConfig& config, const Session& session,
                             reports::RunContext context, bool quiet, const std::string& history) {
    reports::ResultsFile results_file(session.results, std::move(context));
    Progress progress(static_cast<int>(cells.size()), total_runs(cells), isatty(STDERR_FILENO) != 0);
    std::vector<RunObserver*> observers{&results_file};
    if (!quiet) observers.push_back(&progress);
    Observers all(observers);
    auto results = run_cells(cells, config, all);
    if (!quiet) progress.finish();
    if (!results) return results.error();
    const bool interrupted = config.interrupt && config.interrupt->requested();
    MatrixRun run{std::move(*results), results_file.finish(!interrupted)};
    if (run.written) run.written = finish_reports(session, results_file, history, true);
    std::fputs(reports::render_table(run.results).c_str(), stdout);
    return run;
}

}  // namespace hangar::cli
