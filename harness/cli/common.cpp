#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "commands.hpp"
#include "hangar/process.hpp"

namespace hangar::cli {

void complain(const std::string& message) { std::fprintf(stderr, "hangar: %s\n", message.c_str()); }

int exit_for(const Error& e) { return e.kind == Error::Kind::input ? kExitUsage : kExitHarness; }

int fail_with(const Error& e) {
    complain(e.message);
    return exit_for(e);
}

std::string resolve_python(const GlobalOptions& global) {
    std::string chosen = global.python;
    if (chosen.empty()) {
        if (const char* env = std::getenv("HANGAR_PYTHON"); env && *env) chosen = env;
        else if (access("/usr/bin/python3", X_OK) == 0) chosen = "/usr/bin/python3";
        else chosen = "python3";
    }
    auto found = find_program(chosen);
    return found ? found->string() : chosen;
}

}  // namespace hangar::cli
