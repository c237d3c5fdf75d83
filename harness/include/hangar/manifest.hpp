// A scenario family's declarative manifest: its variants, where each runs and what each
// is expected to do there. See scenarios/README.md for the format.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hangar/expectation.hpp"
#include "hangar/method.hpp"
#include "hangar/result.hpp"

namespace hangar {

enum class Language { python, native };

// Sanitizer builds a native scenario also comes in; "none" is the plain build.
inline constexpr std::string_view kSanitizers[] = {"none", "tsan", "asan"};
bool is_sanitizer(std::string_view name);

// Where a sanitizer changes what a cell does (TSan cannot prove a deadlock, reports a
// race, aborts a child that starts threads...), the manifest says so, and why.
struct SanitizerExpectations {
    std::map<Method, Expectation> expect;  // overrides the plain expectation per method
    std::string why;
};

struct Variant {
    std::string name;
    std::string description;
    Language language = Language::python;
    std::string entry;              // python: script beside the manifest; native: binary name
    std::vector<std::string> args;  // placed before `--method M`
    std::vector<Method> methods;
    std::map<Method, Expectation> expect;  // one per method
    std::map<std::string, SanitizerExpectations> by_sanitizer;  // [variant.expect_tsan] ...
    int repeat = 1;                        // runs per cell unless --repeat says otherwise
    // Not from manifests: a whole command line run as it is, without `--method`
    // (`hangar exec`). When set, language, entry and args are unused.
    std::vector<std::string> command;

    // Python variants run the real CPython, which is not built with sanitizers.
    bool runs_under(std::string_view sanitizer) const {
        return sanitizer == "none" || (language == Language::native && command.empty());
    }
    const Expectation& expectation(Method m, std::string_view sanitizer) const;
    std::string sanitizer_note(std::string_view sanitizer) const;  // "" if none
};

struct Family {
    std::string name;
    std::string description;
    std::filesystem::path dir;
    std::vector<Variant> variants;

    const Variant* find(std::string_view variant) const;
};

// "FILE:LINE: what is wrong", fit to print as it is.
Result<Family> load_manifest(const std::filesystem::path& file);

// Every family under `scenarios_dir` (one folder each, holding manifest.toml). A broken
// manifest is listed in `errors` and the others still load.
struct Catalog {
    std::vector<Family> families;
    std::vector<Error> errors;

    const Family* find(std::string_view family) const;
};

Catalog load_catalog(const std::filesystem::path& scenarios_dir);

}  // namespace hangar
