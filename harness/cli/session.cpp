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
#include "report_set.hpp"

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

nlohmann::json environment(const std::string& python, const std::vector<std::string>& sanitizers) {
    utsname u{};
    uname(&u);
    nlohmann::json env = {
        {"kernel", std::string(u.sysname) + " " + u.release},
        {"machine", u.machine},
        {"glibc", gnu_get_libc_version()},
        {"compiler", kCompiler},
        {"cpus", std::thread::hardware_concurrency()},
        {"sanitizers", sanitizers.empty() ? std::vector<std::string>{"none"} : sanitizers},
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

ResultsWriter::ResultsWriter(std::vector<std::filesystem::path> targets, reports::RunContext context)
    : targets_(std::move(targets)), context_(std::move(context)) {}

void ResultsWriter::run_finished(const Cell& cell, const RunRecord& record) {
    nlohmann::json run = reports::run_to_json(record);
    run["scenario"] = cell.family->name;
    run["variant"] = cell.variant->name;
    run["method"] = to_string(cell.method);
    run["sanitizer"] = cell.sanitizer;
    note(write_file_atomically(record.evidence / "run.json", run.dump(2) + "\n"));
}

void ResultsWriter::cell_finished(const CellResult& cell) {
    // Cells finish out of order with -j; the report keeps the matrix's order.
    auto at = std::upper_bound(cells_.begin(), cells_.end(), cell.cell.order,
                               [](int order, const CellResult& c) { return order < c.cell.order; });
    cells_.insert(at, cell);
    write(false);
}

void ResultsWriter::write(bool complete) {
    context_.complete = complete;
    std::string text = reports::results_to_json(cells_, context_).dump(2) + "\n";
    for (const auto& t : targets_) note(write_file_atomically(t, text));
}

void ResultsWriter::note(const Status& s) {
    if (s) return;
    if (!failed_) complain(s.error().message);
    failed_ = true;
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

Result<std::filesystem::path> open_session(const std::vector<Cell>& cells, RunnerConfig& config,
                                           const std::string& out, const std::string& json) {
    if (auto s = check_runnable(cells, config); !s) return s.error();
    if (auto s = check_json_target(json); !s) return s.error();
    auto session = make_session_dir(out);
    if (!session) return session.error();
    config.evidence_root = std::filesystem::absolute(*session);
    return session;
}

std::vector<std::filesystem::path> results_targets(const std::filesystem::path& session, const std::string& json) {
    std::vector<std::filesystem::path> targets{session / "results.json"};
    if (!json.empty()) targets.emplace_back(json);
    return targets;
}

Result<std::pair<int, int>> parse_shard(const std::string& text) {
    int k = 0, n = 0;
    char tail = 0;
    if (std::sscanf(text.c_str(), "%d/%d%c", &k, &n, &tail) != 2 || n < 1 || k < 1 || k > n)
        return error("--shard " + text + ": expected K/N with 1 <= K <= N, e.g. --shard 2/4");
    return std::pair{k, n};
}

Status finish_reports(const std::filesystem::path& dir, const std::vector<CellResult>& cells,
                      const reports::RunContext& context, const std::string& history) {
    std::vector<reports::HistoryEntry> entries;
    if (!history.empty()) {
        if (auto s = reports::append_history(history, cells, context); !s) return s;
        auto read = reports::read_history(history);
        if (!read) return read.error();
        entries = std::move(*read);
    }
    return reports::write_reports(dir, cells, context, entries);
}

}  // namespace hangar::cli
