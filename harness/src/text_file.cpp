#include "hangar/text_file.hpp"

#include <fstream>
#include <iterator>

namespace hangar {

std::string read_text(const std::filesystem::path& file, size_t limit) {
    std::ifstream in(file, std::ios::binary);
    if (limit == std::string::npos) return std::string(std::istreambuf_iterator<char>(in), {});
    std::string text(limit, '\0');
    in.read(text.data(), static_cast<std::streamsize>(limit));
    text.resize(static_cast<size_t>(in.gcount()));
    return text;
}

}  // namespace hangar
