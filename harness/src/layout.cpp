#include "hangar/layout.hpp"

#include <map>
#include <sstream>

#include "hangar/text.hpp"
#include "hangar/text_file.hpp"

namespace hangar {
namespace {

namespace fs = std::filesystem;

bool is_file(const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec);
}

bool is_dir(const fs::path& p) {
    std::error_code ec;
    return fs::is_directory(p, ec);
}

Result<Layout> read_marker(const fs::path& binary, const fs::path& marker) {
    const std::string text = read_text(marker, 64 * 1024);
    std::map<std::string, fs::path> paths;
    std::istringstream lines(text);
    std::string line;
    int number = 0;
    const auto at = [&](const std::string& what) {
        return error(marker.string() + ":" + std::to_string(number) + ": " + what +
                         " (the build writes this file; run cmake again)",
                     Error::Kind::internal);
    };
    while (std::getline(lines, line)) {
        ++number;
        if (line.empty() || line[0] == '#') continue;
        const auto eq = line.find('=');
        if (eq == std::string::npos) return at("not a key=value line: " + one_line(line, 80));
        const std::string key = line.substr(0, eq);
        const fs::path value = line.substr(eq + 1);
        if (key != "scenarios" && key != "scenario-bin" && key != "forkwatch" && key != "python")
            return at("unknown key '" + one_line(key, 40) + "'");
        if (!value.is_absolute()) return at(key + " is not an absolute path");
        paths[key] = value;
    }
    for (const char* key : {"scenarios", "scenario-bin", "forkwatch", "python"})
        if (!paths.count(key))
            return error(marker.string() + ": no " + key + "= line (the build writes this file; run cmake again)",
                         Error::Kind::internal);
    Layout layout;
    layout.kind = Layout::Kind::build_tree;
    layout.binary = binary;
    layout.found_by = marker;
    layout.scenarios = paths["scenarios"];
    layout.scenario_bin = paths["scenario-bin"];
    layout.forkwatch = paths["forkwatch"];
    layout.python = paths["python"];
    return layout;
}

}  // namespace

std::string_view to_string(Layout::Kind kind) { return kind == Layout::Kind::build_tree ? "build tree" : "installed"; }

Result<Layout> find_layout(const fs::path& binary) {
    const fs::path dir = binary.parent_path();
    const fs::path marker = dir / kBuildTreeMarker;
    if (is_file(marker)) return read_marker(binary, marker);
    const fs::path prefix = dir.parent_path();
    const fs::path share = prefix / kInstalledShare;
    if (is_dir(share)) {
        Layout layout;
        layout.kind = Layout::Kind::installed;
        layout.binary = binary;
        layout.found_by = share;
        layout.scenarios = share / "scenarios";
        layout.scenario_bin = prefix / kInstalledLib / "scenarios";
        layout.forkwatch = prefix / kInstalledLib / "libhangar_forkwatch.so";
        layout.python = share / "python";
        layout.cmake_package = prefix / kInstalledCMake;
        return layout;
    }
    return error("cannot find hangar's own files: neither " + marker.string() + " (a build folder) nor " +
                     share.string() + " (an installed hangar) exists; give --scenarios and --scenario-bin, or "
                     "reinstall",
                 Error::Kind::internal);
}

Result<Layout> find_layout() {
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (ec) return error("cannot read /proc/self/exe: " + ec.message(), Error::Kind::internal);
    return find_layout(self);
}

}  // namespace hangar
