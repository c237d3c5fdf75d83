// Reading what runs and the kernel leave in files: /proc entries, a run's output, a tool's.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace hangar {

// The file's first `limit` bytes (all of it by default); "" when it cannot be read. A
// limit keeps a runaway stderr from costing the harness its memory.
std::string read_text(const std::filesystem::path& file, size_t limit = std::string::npos);

}  // namespace hangar
