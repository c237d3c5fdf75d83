#include "hangar/matrix.hpp"

#include <algorithm>

namespace hangar {
namespace {

template <class Range, class Name>
std::string names(const Range& range, Name name) {
    std::string out;
    for (const auto& item : range) out += (out.empty() ? "" : ", ") + name(item);
    return out.empty() ? "none" : out;
}

}  // namespace

std::string Cell::not_applicable_reason() const {
    if (applicable()) return "";
    return "python variants run the real CPython, which is not built with " + sanitizer;
}

Result<std::vector<Cell>> select_cells(const Catalog& catalog, const std::vector<std::string>& selectors,
                                       const std::vector<Method>& methods, std::optional<int> repeat,
                                       const std::vector<std::string>& sanitizers) {
    for (const auto& s : sanitizers)
        if (!is_sanitizer(s)) return error("unknown sanitizer '" + s + "'; known: none, tsan, asan");
    const std::vector<std::string> dimension = sanitizers.empty() ? std::vector<std::string>{"none"} : sanitizers;
    std::vector<std::pair<const Family*, const Variant*>> chosen;
    auto add = [&](const Family* f, const Variant* v) {
        if (std::find(chosen.begin(), chosen.end(), std::pair{f, v}) == chosen.end()) chosen.emplace_back(f, v);
    };
    if (selectors.empty()) {
        for (const auto& f : catalog.families)
            for (const auto& v : f.variants) add(&f, &v);
    }
    for (const auto& sel : selectors) {
        auto slash = sel.find('/');
        std::string family_name = sel.substr(0, slash);
        const Family* f = catalog.find(family_name);
        if (!f)
            return error("unknown scenario '" + sel + "'; known: " +
                         names(catalog.families, [](const Family& x) { return x.name; }) + " (see hangar list)");
        if (slash == std::string::npos) {
            for (const auto& v : f->variants) add(f, &v);
            continue;
        }
        const Variant* v = f->find(sel.substr(slash + 1));
        if (!v)
            return error("unknown variant '" + sel + "'; " + f->name + " has: " +
                         names(f->variants, [](const Variant& x) { return x.name; }));
        add(f, v);
    }
    std::vector<Cell> cells;
    for (auto [f, v] : chosen)
        for (Method m : v->methods)
            if (methods.empty() || std::find(methods.begin(), methods.end(), m) != methods.end())
                for (const auto& s : dimension)
                    cells.push_back(Cell{f, v, m, s, repeat.value_or(v->repeat), static_cast<int>(cells.size())});
    if (cells.empty()) return error("no scenario variant runs under the methods asked for");
    return cells;
}

}  // namespace hangar
