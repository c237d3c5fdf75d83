// Test support: start the real `hangar` binary, as a user would, and read what it did.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace hangar::testing {

struct Finished {
    int exit_code = -1;  // -1 if killed by a signal
    std::string out, err;
    long max_rss_kb = 0;  // hangar's peak resident memory
};

// Starts hangar with the fixture scenarios (tests/fixtures/scenarios, tree_maker's
// folder) ahead of `args`; output goes to files in `dir`. `extra_env` is added to the
// environment, replacing variables of the same name.
pid_t start_hangar(const std::vector<std::string>& args, const std::filesystem::path& dir,
                   const std::vector<std::string>& extra_env = {}, bool with_fixtures = true);
Finished wait_hangar(pid_t pid, const std::filesystem::path& dir);
Finished run_hangar(const std::vector<std::string>& args, const std::filesystem::path& dir,
                    const std::vector<std::string>& extra_env = {}, bool with_fixtures = true);

}  // namespace hangar::testing
