#include "hangar/method.hpp"

namespace hangar {

std::string_view to_string(Method m) {
    switch (m) {
        case Method::fork: return "fork";
        case Method::spawn: return "spawn";
        case Method::forkserver: return "forkserver";
        case Method::none: return "none";
    }
    return "?";
}

std::optional<Method> parse_method(std::string_view text) {
    for (Method m : kScenarioMethods)
        if (to_string(m) == text) return m;
    return std::nullopt;
}

std::optional<Method> parse_any_method(std::string_view text) {
    if (text == to_string(Method::none)) return Method::none;
    return parse_method(text);
}

}  // namespace hangar
