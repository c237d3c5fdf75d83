// Test support: collect the PIDs a tree_maker reports, and watch them die.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hangar/process.hpp"

namespace hangar::testing {

// A datagram socket in a fresh temporary folder; its path goes to tree_maker as
// $HANGAR_TEST_PIDS. Each process reports itself with one datagram, and the kernel attaches
// its PID as this process sees it: a run lives in its own PID namespace, with a /proc of
// its own, so nothing inside it can name its outer PID.
class PidReports {
public:
    PidReports();
    ~PidReports();
    const std::filesystem::path& path() const { return path_; }
    std::string env() const { return "HANGAR_TEST_PIDS=" + path_.string(); }

    // Blocks until `count` processes have reported, or 30 s pass without a report.
    // Returns a pidfd for each, opened while the process is known to be alive.
    std::vector<int> read_pidfds(int count);

private:
    std::filesystem::path dir_, path_;
    int fd_ = -1;
};

// True when the process behind `pidfd` has ended within `timeout_ms`.
bool ended_within(int pidfd, int timeout_ms);

// A temporary folder removed with everything in it at scope end.
class TempDir {
public:
    TempDir();
    ~TempDir();
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// Collects `tree` and returns its wait status, -1 (and a test failure) if that fails.
int wait_status(ProcessTree& tree);

// A whole file as text, and as JSON.
std::string slurp(const std::filesystem::path& file);
nlohmann::json read_json(const std::filesystem::path& file);

// tree_maker ARGS..., with stdout.txt and stderr.txt in `dir` and the current environment
// plus `extra_env`.
CommandSpec tree_maker(const TempDir& dir, std::vector<std::string> args, std::vector<std::string> extra_env = {});

}  // namespace hangar::testing
