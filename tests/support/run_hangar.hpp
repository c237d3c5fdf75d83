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
};

// Starts hangar with the fixture scenarios (tests/fixtures/scenarios, tree_maker's
// folder) ahead of `args`; output goes to files in `dir`.
pid_t start_hangar(const std::vector<std::string>& args, const std::filesystem::path& dir,
                   const std::vector<std::string>& extra_env = {}, bool with_fixtures = true);
Finished wait_hangar(pid_t pid, const std::filesystem::path& dir);
Finished run_hangar(const std::vector<std::string>& args, const std::filesystem::path& dir,
                    const std::vector<std::string>& extra_env = {}, bool with_fixtures = true);

}  // namespace hangar::testing
