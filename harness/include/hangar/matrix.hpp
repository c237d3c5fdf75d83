// The cells a run covers: scenario variant x start method (x sanitizer, later).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "hangar/manifest.hpp"

namespace hangar {

struct Cell {
    const Family* family = nullptr;
    const Variant* variant = nullptr;
    Method method = Method::fork;
    std::string sanitizer = "none";
    int repeat = 1;
    int order = 0;  // position in the matrix: reports list cells in this order

    const Expectation& expect() const { return variant->expectation(method, sanitizer); }
    // False for a python variant under a sanitizer: the cell is listed, never run.
    bool applicable() const { return variant->runs_under(sanitizer); }
    std::string not_applicable_reason() const;
    std::string scenario_id() const { return family->name + "/" + variant->name; }  // family/variant
};

// `selectors` are FAMILY or FAMILY/VARIANT (empty: everything); `methods` restricts the
// start methods (empty: each variant's own); `sanitizers` is a matrix dimension (empty:
// "none" only); `repeat` overrides the manifests' repeat. Unknown names are errors that
// list what exists.
Result<std::vector<Cell>> select_cells(const Catalog& catalog, const std::vector<std::string>& selectors,
                                       const std::vector<Method>& methods, std::optional<int> repeat,
                                       const std::vector<std::string>& sanitizers = {});

}  // namespace hangar
