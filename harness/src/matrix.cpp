#include "hangar/matrix.hpp"

#include <algorithm>
#include <cstdio>

namespace hangar {
namespace {

template <class Range, class Name>
std::string names(const Range& range, Name name) {
    std::string out;
    for (const auto& item : range) out += (out.empty() ? "" : ", ") + name(item);
    return out.empty() ? "none" : out;
}

}  // namespace

std::string Cell::scenario_id() const { return family + "/" + variant; }

std::string Cell::column() const {
    std::string c(to_string(method));
    if (sanitizer != Sanitizer::none) c += "/" + std::string(to_string(sanitizer));
    return c;
}

std::string Cell::key() const {
    std::string k = scenario_id() + ":" + std::string(to_string(method));
    if (sanitizer != Sanitizer::none) k += ":" + std::string(to_string(sanitizer));
    return k;
}

std::string Cell::label() const { return scenario_id() + " " + column(); }

std::filesystem::path Cell::folder() const {
    std::string m(to_string(method));
    if (sanitizer != Sanitizer::none) m += "-" + std::string(to_string(sanitizer));
    return std::filesystem::path(family) / variant / m;
}

Cell make_cell(const Family& family, const Variant& variant, Method method, Sanitizer sanitizer, int repeat) {
    Cell c;
    c.family = family.name;
    c.variant = variant.name;
    c.method = method;
    c.sanitizer = sanitizer;
    c.expect = variant.expectation(method, sanitizer);
    c.sanitizer_note = variant.sanitizer_note(sanitizer);
    if (!variant.runs_under(sanitizer))
        c.not_applicable_reason =
            "python variants run the real CPython, which is not built with " + std::string(to_string(sanitizer));
    c.launch.language = variant.language;
    if (variant.language == Language::python) c.launch.script = family.dir / variant.entry;
    else c.launch.binary = variant.entry + (sanitizer == Sanitizer::none ? "" : "-" + std::string(to_string(sanitizer)));
    c.launch.args = variant.args;
    c.repeat = repeat;
    return c;
}

Result<std::vector<Cell>> select_cells(const Catalog& catalog, const MatrixRequest& request) {
    const std::vector<Sanitizer> dimension =
        request.sanitizers.empty() ? std::vector<Sanitizer>{Sanitizer::none} : request.sanitizers;
    std::vector<std::pair<const Family*, const Variant*>> chosen;
    auto add = [&](const Family* f, const Variant* v) {
        if (std::find(chosen.begin(), chosen.end(), std::pair{f, v}) == chosen.end()) chosen.emplace_back(f, v);
    };
    if (request.selectors.empty()) {
        for (const auto& f : catalog.families)
            for (const auto& v : f.variants) add(&f, &v);
    }
    for (const auto& sel : request.selectors) {
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
            if (request.methods.empty() ||
                std::find(request.methods.begin(), request.methods.end(), m) != request.methods.end())
                for (Sanitizer s : dimension) {
                    Cell c = make_cell(*f, *v, m, s, request.repeat.value_or(v->repeat));
                    if (request.stochastic_repeat && c.expect.stochastic()) c.repeat = *request.stochastic_repeat;
                    c.order = static_cast<int>(cells.size());
                    cells.push_back(std::move(c));
                }
    if (cells.empty()) return error("no scenario variant runs under the methods asked for");
    if (request.shard) {
        auto [k, n] = *request.shard;
        const size_t total = cells.size();
        std::erase_if(cells, [&](const Cell& c) { return c.order % n != k - 1; });
        if (cells.empty())
            return error("shard " + std::to_string(k) + "/" + std::to_string(n) + " has no cells: the matrix has only " +
                         std::to_string(total));
    }
    return cells;
}

Result<std::pair<int, int>> parse_shard(const std::string& text) {
    int k = 0, n = 0;
    char tail = 0;
    if (std::sscanf(text.c_str(), "%d/%d%c", &k, &n, &tail) != 2 || n < 1 || k < 1 || k > n)
        return error("--shard " + text + ": expected K/N with 1 <= K <= N, e.g. --shard 2/4");
    return std::pair{k, n};
}

}  // namespace hangar
