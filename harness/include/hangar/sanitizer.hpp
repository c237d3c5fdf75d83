// The builds a native scenario comes in: plain, and instrumented by a sanitizer.
#pragma once

#include <optional>
#include <string_view>

namespace hangar {

enum class Sanitizer { none, tsan, asan };

inline constexpr Sanitizer kAllSanitizers[] = {Sanitizer::none, Sanitizer::tsan, Sanitizer::asan};

std::string_view to_string(Sanitizer s);                       // none | tsan | asan
std::optional<Sanitizer> parse_sanitizer(std::string_view text);

}  // namespace hangar
