// Start methods: how a scenario's child process comes to be.
#pragma once

#include <optional>
#include <string_view>

namespace hangar {

// `none` is for a command that hangar supervises without choosing how it starts
// children (`hangar exec`).
enum class Method { fork, spawn, forkserver, none };

inline constexpr Method kScenarioMethods[] = {Method::fork, Method::spawn, Method::forkserver};

std::string_view to_string(Method m);
std::optional<Method> parse_method(std::string_view text);      // fork | spawn | forkserver
std::optional<Method> parse_any_method(std::string_view text);  // ... or none

}  // namespace hangar
