// Where hangar's own files are: the built-in scenarios, their native programs, the
// fork-hazard detector and the Python side. Found from where the binary itself is
// (/proc/self/exe), never from a path baked in at build time, so an installed tree works
// wherever it is put, and a binary in the build folder still uses the trees it was built
// from.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "hangar/result.hpp"

namespace hangar {

struct Layout {
    enum class Kind {
        build_tree,  // a binary in its build folder: the marker file beside it names each path
        installed,   // PREFIX/bin/hangar, with PREFIX/share/hangar and PREFIX/lib/hangar
    };
    Kind kind = Kind::installed;
    std::filesystem::path binary;        // the hangar binary
    std::filesystem::path found_by;      // the marker file, or PREFIX/share/hangar
    std::filesystem::path scenarios;     // the built-in scenario families (manifests, scripts)
    std::filesystem::path scenario_bin;  // their native programs
    std::filesystem::path forkwatch;     // libhangar_forkwatch.so, preloaded by --hazards
    std::filesystem::path python;        // startup/ (the hook) and hangar_check.py
    std::filesystem::path cmake_package; // hangarConfig.cmake's folder; empty in a build tree
};

std::string_view to_string(Layout::Kind kind);  // "build tree" | "installed"

// The build-tree marker, written by CMake at configure time beside the binary it builds:
// one `key=value` line per path (scenarios, scenario-bin, forkwatch, python), `#` comments.
inline constexpr std::string_view kBuildTreeMarker = "hangar-build-tree.txt";

// The installed layout, relative to PREFIX (the binary is PREFIX/bin/hangar).
inline constexpr std::string_view kInstalledShare = "share/hangar";  // scenarios/, python/
inline constexpr std::string_view kInstalledLib = "lib/hangar";      // libhangar_forkwatch.so, scenarios/
inline constexpr std::string_view kInstalledCMake = "lib/cmake/hangar";

// The layout of the hangar binary at `binary` (an absolute path). The build-tree marker
// beside the binary is looked for first: it is written only into a build folder and never
// installed, so it cannot be mistaken, whereas a build folder inside an install prefix
// (/usr/local/build/hangar) would otherwise take /usr/local/share/hangar for its own.
// Then PREFIX/share/hangar, where PREFIX is the binary's folder's parent. Neither is an
// error that names both places; so is a marker that is malformed (FILE:LINE).
Result<Layout> find_layout(const std::filesystem::path& binary);

// The layout of the running binary (/proc/self/exe).
Result<Layout> find_layout();

}  // namespace hangar
