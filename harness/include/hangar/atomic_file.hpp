// Reports are replaced whole or not at all: a reader, or a harness killed mid-write,
// never sees half a file.
#pragma once

#include <filesystem>
#include <string_view>

#include "hangar/result.hpp"

namespace hangar {

// Writes `content` to a temporary file beside `path` and renames it over `path`: atomic
// for readers and against the process dying, not against the machine losing power.
Status write_file_atomically(const std::filesystem::path& path, std::string_view content);

// Checks that files can be created in `dir` (creating the folder if needed), without
// leaving anything behind when they cannot.
Status check_writable_dir(const std::filesystem::path& dir);

}  // namespace hangar
