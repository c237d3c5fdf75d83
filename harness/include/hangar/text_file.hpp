// Reading what runs and the kernel leave in files: /proc entries, a run's output, a tool's.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace hangar {

// The file's first `limit` bytes (all of it by default); "" when it cannot be read. A
// limit keeps a runaway stderr from costing the harness its memory.
std::string read_text(const std::filesystem::path& file, size_t limit = std::string::npos);

// How often `needle` occurs in the file, read in chunks, so a file of any size costs the
// harness a chunk of memory. 0 when it cannot be read.
int count_in_file(const std::filesystem::path& file, std::string_view needle);

}  // namespace hangar
