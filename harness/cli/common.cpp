#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <regex>

#include "commands.hpp"
#include "hangar/process.hpp"
#include "hangar/text.hpp"

namespace hangar::cli {

// One line, whatever the message holds (a path or a program's name with a newline or an
// escape sequence in it).
void complain(const std::string& message) { std::fprintf(stderr, "hangar: %s\n", one_line(message).c_str()); }

int exit_for(const Error& e) { return e.kind == Error::Kind::input ? kExitUsage : kExitHarness; }

int fail_with(const Error& e) {
    complain(e.message);
    return exit_for(e);
}

namespace {

// What the user typed, short enough for a one-line error.
std::string shown(const std::string& text) { return text.size() > 24 ? text.substr(0, 21) + "..." : text; }

}  // namespace

// Plain decimal: strtod would also take hex ("0x10") and "infinity".
bool decimal(const std::string& text) {
    static const std::regex number(R"([0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?)");
    return text.size() < 40 && std::regex_match(text, number);
}

CLI::Validator seconds_check() {
    return CLI::Validator(
        [](std::string& text) -> std::string {
            char* end = nullptr;
            errno = 0;
            const double s = decimal(text) ? std::strtod(text.c_str(), &end) : -1;
            if (s < 0 || errno || !std::isfinite(s) || s < 0.001 || s > 604800)
                return "'" + shown(text) + "' is not a number of seconds from 0.001 to 604800";
            return "";
        },
        "SECONDS");
}

uint64_t parse_size(const std::string& text) {
    char* end = nullptr;
    const double n = std::strtod(text.c_str(), &end);
    uint64_t unit = 1;
    if (*end == 'K' || *end == 'k') unit = 1ull << 10;
    if (*end == 'M' || *end == 'm') unit = 1ull << 20;
    if (*end == 'G' || *end == 'g') unit = 1ull << 30;
    return static_cast<uint64_t>(n * static_cast<double>(unit));
}

CLI::Validator size_check() {
    return CLI::Validator(
        [](std::string& text) -> std::string {
            char* end = nullptr;
            errno = 0;
            const double n = std::strtod(text.c_str(), &end);
            const bool unit_ok = *end == '\0' || (std::strchr("KkMmGg", *end) && end[1] == '\0');
            if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0])) || errno || !std::isfinite(n) ||
                !unit_ok)
                return "'" + shown(text) + "' is not a size: bytes, or a number with K, M or G";
            const uint64_t bytes = parse_size(text);
            if (bytes < (1ull << 10) || bytes > (64ull << 30)) return "'" + shown(text) + "' is not from 1K to 64G";
            return "";
        },
        "SIZE");
}

Result<std::filesystem::path> python_dir(const GlobalOptions& global) {
    if (!global.layout) return global.layout_error;
    return global.layout->python;
}

Result<std::filesystem::path> python_hook_dir(const GlobalOptions& global) {
    auto dir = python_dir(global);
    if (!dir) return dir.error();
    return *dir / "startup";
}

Result<std::filesystem::path> hazard_detector(const GlobalOptions& global) {
    if (!global.layout) return global.layout_error;
    const auto lib = global.layout->forkwatch;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(lib, ec))
        return error("--hazards: the detector " + lib.string() +
                     (global.layout->kind == Layout::Kind::build_tree ? " is not built (run: cmake --build build)"
                                                                      : " is missing (reinstall hangar)"));
    return lib;
}

Status check_scenarios_known(const GlobalOptions& global) {
    if (!global.scenarios_dir.empty()) return {};
    return global.layout_error;
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
