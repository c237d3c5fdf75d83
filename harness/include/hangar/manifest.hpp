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
#include "hangar/sanitizer.hpp"

namespace hangar {

enum class Language { python, native };

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
    std::map<Sanitizer, SanitizerExpectations> by_sanitizer;  // [variant.expect_tsan] ...
    int repeat = 1;                        // runs per cell unless --repeat says otherwise

    // Python variants run the real CPython, which is not built with sanitizers.
    bool runs_under(Sanitizer s) const { return s == Sanitizer::none || language == Language::native; }
    const Expectation& expectation(Method m, Sanitizer s) const;
    std::string sanitizer_note(Sanitizer s) const;  // "" if none
};

std::string_view to_string(Language l);  // python | native

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
