#include "hangar/sanitizer.hpp"

namespace hangar {

std::string_view to_string(Sanitizer s) {
    switch (s) {
        case Sanitizer::none: return "none";
        case Sanitizer::tsan: return "tsan";
        case Sanitizer::asan: return "asan";
    }
    return "?";
}

std::optional<Sanitizer> parse_sanitizer(std::string_view text) {
    for (Sanitizer s : kAllSanitizers)
        if (to_string(s) == text) return s;
    return std::nullopt;
}

}  // namespace hangar
