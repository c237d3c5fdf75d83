#include "hangar/manifest.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <toml++/toml.h>

#include "hangar/text.hpp"

namespace hangar {
namespace {

// A name that is one path component of hangar's own choosing: a variant names its
// evidence folder, a native entry a file in the scenario bin folder.
bool is_plain_name(const std::string& name) {
    if (name.empty() || name == "." || name == ".." || name.size() > 128) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    });
}

class Loader {
public:
    explicit Loader(std::filesystem::path file) : file_(std::move(file)) {}

    Error at(const toml::node& node, const std::string& what) const {
        return at_line(static_cast<int>(node.source().begin.line), what);
    }
    Error at_line(int line, const std::string& what) const {
        return error(file_.string() + ":" + std::to_string(line) + ": " + what);
    }

    // Unknown keys are errors: a misspelt `expcet` must not silently drop expectations.
    Status only_keys(const toml::table& t, std::set<std::string_view> allowed, const std::string& where) const {
        for (auto&& [key, value] : t)
            if (!allowed.count(key.str()))
                return at(value, "unknown key '" + std::string(key.str()) + "' in " + where);
        return {};
    }

    Result<std::string> string(const toml::table& t, std::string_view key, const toml::node& owner,
                               const std::string& where, bool required = true) const {
        const toml::node* n = t.get(key);
        if (!n) {
            if (!required) return std::string();
            return at(owner, where + " needs '" + std::string(key) + "'");
        }
        if (!n->is_string()) return at(*n, "'" + std::string(key) + "' in " + where + " must be a string");
        return std::string(*n->value<std::string>());
    }

    Result<Variant> variant(const toml::node& node, int index) const {
        const std::string where = "variant #" + std::to_string(index + 1);
        const toml::table* t = node.as_table();
        if (!t) return at(node, where + " must be a table ([[variant]])");
        if (auto s = only_keys(*t, {"name", "description", "language", "entry", "args", "methods", "expect", "repeat",
                                    "expect_tsan", "expect_asan"},
                               where);
            !s)
            return s.error();
        Variant v;
        auto name = string(*t, "name", node, where);
        if (!name) return name.error();
        v.name = *name;
        const std::string in = "variant '" + v.name + "'";
        if (!is_plain_name(v.name))
            return at(node, "variant name '" + one_line(v.name, 64) +
                                "' must be letters, digits, '.', '_' or '-' (not '.' or '..'): it names a folder");
        auto description = string(*t, "description", node, in, false);
        if (!description) return description.error();
        v.description = *description;
        auto language = string(*t, "language", node, in);
        if (!language) return language.error();
        if (*language == "python") v.language = Language::python;
        else if (*language == "native") v.language = Language::native;
        else return at(*t->get("language"), in + ": language must be 'python' or 'native', not '" + *language + "'");
        auto entry = string(*t, "entry", node, in);
        if (!entry) return entry.error();
        v.entry = *entry;
        if (auto s = entry_stays_inside(v); !s) return at(*t->get("entry"), in + ": " + s.error().message);
        if (const toml::node* args = t->get("args")) {
            const toml::array* a = args->as_array();
            if (!a) return at(*args, in + ": args must be an array of strings");
            for (auto&& arg : *a) {
                if (!arg.is_string()) return at(arg, in + ": args must be an array of strings");
                v.args.push_back(*arg.value<std::string>());
            }
        }
        if (const toml::node* repeat = t->get("repeat")) {
            auto r = repeat->value<int64_t>();
            if (!repeat->is_integer() || *r < 1 || *r > 100000)
                return at(*repeat, in + ": repeat must be a whole number from 1");
            v.repeat = static_cast<int>(*r);
        }
        const toml::node* methods = t->get("methods");
        if (!methods) return at(node, in + " needs 'methods'");
        const toml::array* ma = methods->as_array();
        if (!ma || ma->empty()) return at(*methods, in + ": methods must be a non-empty array");
        for (auto&& m : *ma) {
            auto parsed = m.is_string() ? parse_method(*m.value<std::string>()) : std::nullopt;
            if (!parsed) return at(m, in + ": unknown method (fork, spawn or forkserver)");
            if (std::find(v.methods.begin(), v.methods.end(), *parsed) != v.methods.end())
                return at(m, in + ": method listed twice");
            v.methods.push_back(*parsed);
        }
        const toml::node* expect = t->get("expect");
        if (!expect || !expect->is_table()) return at(expect ? *expect : node, in + " needs an [variant.expect] table");
        for (auto&& [key, value] : *expect->as_table()) {
            auto m = parse_method(key.str());
            if (!m || std::find(v.methods.begin(), v.methods.end(), *m) == v.methods.end())
                return at(value, in + ": expectation for '" + std::string(key.str()) +
                                     "', which is not one of the variant's methods");
            if (!value.is_string()) return at(value, in + ": expectation must be a string");
            auto e = parse_expectation(*value.value<std::string>());
            if (!e) return at(value, in + ": " + e.error().message);
            v.expect[*m] = *e;
        }
        for (Method m : v.methods)
            if (!v.expect.count(m))
                return at(*expect, in + ": no expectation for method '" + std::string(to_string(m)) + "'");
        for (Sanitizer sanitizer : kAllSanitizers) {
            const toml::node* table = t->get("expect_" + std::string(to_string(sanitizer)));
            if (!table) continue;
            const std::string where_san = in + " [variant.expect_" + std::string(to_string(sanitizer)) + "]";
            if (v.language != Language::native) return at(*table, where_san + ": only native variants have sanitizer builds");
            if (!table->is_table()) return at(*table, where_san + " must be a table");
            SanitizerExpectations se;
            for (auto&& [key, value] : *table->as_table()) {
                if (!value.is_string()) return at(value, where_san + ": values must be strings");
                if (key.str() == "why") {
                    se.why = *value.value<std::string>();
                    continue;
                }
                auto m = parse_method(key.str());
                if (!m || std::find(v.methods.begin(), v.methods.end(), *m) == v.methods.end())
                    return at(value, where_san + ": '" + std::string(key.str()) + "' is neither 'why' nor one of the variant's methods");
                auto e = parse_expectation(*value.value<std::string>());
                if (!e) return at(value, where_san + ": " + e.error().message);
                se.expect[*m] = *e;
            }
            if (se.why.empty()) return at(*table, where_san + " needs 'why': say what the sanitizer changes");
            v.by_sanitizer[sanitizer] = se;
        }
        return v;
    }

    // A python entry is a script in the family folder (or below it); a native entry is a
    // binary name in the scenario bin folder. Neither may reach outside.
    Status entry_stays_inside(const Variant& v) const {
        const std::filesystem::path entry(v.entry);
        if (v.language == Language::native) {
            if (!is_plain_name(v.entry))
                return error("native entry '" + one_line(v.entry, 64) +
                             "' must be a binary's file name (letters, digits, '.', '_', '-'), not a path");
            return {};
        }
        if (v.entry.empty() || entry.is_absolute())
            return error("entry '" + one_line(v.entry, 64) + "' must be a script's path relative to the manifest");
        for (const auto& part : entry)
            if (part == "..") return error("entry '" + one_line(v.entry, 64) + "' must stay inside the family folder");
        // A symlink may still point away.
        std::error_code ec;
        const auto dir = std::filesystem::weakly_canonical(file_.parent_path(), ec);
        const auto target = std::filesystem::weakly_canonical(file_.parent_path() / entry, ec);
        if (!ec) {
            auto rel = target.lexically_relative(dir);
            if (rel.empty() || *rel.begin() == "..")
                return error("entry '" + one_line(v.entry, 64) + "' leads outside the family folder (to " +
                             one_line(target.string(), 200) + ")");
        }
        return {};
    }

    Result<Family> family() const {
        // A FIFO or a device as manifest.toml would block or never end; a folder is no manifest.
        std::error_code ec;
        if (!std::filesystem::is_regular_file(file_, ec))
            return error(file_.string() + (std::filesystem::exists(file_, ec) ? ": not a regular file" : ": no such file"));
        toml::table root;
        try {
            root = toml::parse_file(file_.string());
        } catch (const toml::parse_error& e) {
            return at_line(static_cast<int>(e.source().begin.line), std::string(e.description()));
        }
        if (auto s = only_keys(root, {"family", "description", "variant"}, "the manifest"); !s) return s.error();
        Family f;
        f.dir = file_.parent_path();
        auto name = string(root, "family", root, "the manifest");
        if (!name) return at_line(1, "the manifest needs 'family = \"NAME\"'");
        f.name = *name;
        if (f.name != f.dir.filename().string())
            return at(*root.get("family"), "family '" + f.name + "' must match its folder name '" +
                                               f.dir.filename().string() + "'");
        auto description = string(root, "description", root, "the manifest", false);
        if (!description) return description.error();
        f.description = *description;
        const toml::array* variants = root["variant"].as_array();
        if (!variants || variants->empty()) return at_line(1, "the manifest needs at least one [[variant]]");
        for (size_t i = 0; i < variants->size(); ++i) {
            auto v = variant((*variants)[i], static_cast<int>(i));
            if (!v) return v.error();
            if (f.find(v->name)) return at((*variants)[i], "variant '" + v->name + "' defined twice");
            f.variants.push_back(std::move(*v));
        }
        return f;
    }

private:
    std::filesystem::path file_;
};

}  // namespace

std::string_view to_string(Language l) { return l == Language::python ? "python" : "native"; }

const Expectation& Variant::expectation(Method m, Sanitizer s) const {
    if (auto it = by_sanitizer.find(s); it != by_sanitizer.end())
        if (auto e = it->second.expect.find(m); e != it->second.expect.end()) return e->second;
    return expect.at(m);
}

std::string Variant::sanitizer_note(Sanitizer s) const {
    auto it = by_sanitizer.find(s);
    return it == by_sanitizer.end() ? "" : it->second.why;
}

const Variant* Family::find(std::string_view variant) const {
    for (const auto& v : variants)
        if (v.name == variant) return &v;
    return nullptr;
}

const Family* Catalog::find(std::string_view family) const {
    for (const auto& f : families)
        if (f.name == family) return &f;
    return nullptr;
}

Result<Family> load_manifest(const std::filesystem::path& file) { return Loader(file).family(); }

Catalog load_catalog(const std::filesystem::path& scenarios_dir) {
    Catalog catalog;
    std::error_code ec;
    std::vector<std::filesystem::path> manifests;
    // Never throws: a symlink loop or an unreadable folder below is an error of that entry.
    for (auto it = std::filesystem::directory_iterator(scenarios_dir, ec); !ec && it != std::filesystem::end(it);
         it.increment(ec)) {
        std::error_code entry_ec;
        const auto manifest = it->path() / "manifest.toml";
        const bool folder = it->is_directory(entry_ec);
        if (entry_ec) {
            catalog.errors.push_back(error(it->path().string() + ": " + entry_ec.message()));
            continue;
        }
        if (folder && std::filesystem::symlink_status(manifest, entry_ec).type() != std::filesystem::file_type::not_found)
            manifests.push_back(manifest);
        else if (folder && entry_ec && entry_ec != std::errc::no_such_file_or_directory)
            catalog.errors.push_back(error(manifest.string() + ": " + entry_ec.message()));
    }
    if (ec) {
        catalog.errors.push_back(error("cannot read scenarios folder " + scenarios_dir.string() + ": " + ec.message()));
        return catalog;
    }
    std::sort(manifests.begin(), manifests.end());
    for (const auto& m : manifests) {
        auto family = load_manifest(m);
        if (family) catalog.families.push_back(std::move(*family));
        else catalog.errors.push_back(family.error());
    }
    return catalog;
}

}  // namespace hangar
