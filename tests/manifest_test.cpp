#include "hangar/manifest.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>

#include "hangar/matrix.hpp"
#include "pid_watch.hpp"

namespace hangar {
namespace {

using testing::TempDir;

const char* kGood = R"(family = "demo"
description = "a demo family"

[[variant]]
name = "one"
language = "python"
entry = "one.py"
methods = ["fork", "spawn"]
[variant.expect]
fork = "hang"
spawn = "pass"

[[variant]]
name = "two"
language = "native"
entry = "two"
args = ["x"]
repeat = 5
methods = ["fork", "spawn", "forkserver"]
[variant.expect]
fork = "hang-rate >= 0.2"
spawn = "pass"
forkserver = "pass, starts == 1"
)";

std::filesystem::path write_family(const TempDir& dir, const std::string& family, const std::string& text) {
    auto folder = dir.path() / family;
    std::filesystem::create_directories(folder);
    std::ofstream(folder / "manifest.toml") << text;
    return folder / "manifest.toml";
}

// The manifest error for `text`, which must be "FILE:LINE: ...".
std::string error_for(const std::string& text) {
    TempDir dir;
    auto file = write_family(dir, "demo", text);
    auto family = load_manifest(file);
    EXPECT_FALSE(family.ok());
    if (family.ok()) return "";
    const std::string& message = family.error().message;
    EXPECT_EQ(message.rfind(file.string() + ":", 0), 0u) << message;
    return message.substr(file.string().size());
}

std::string with(const std::string& from, const std::string& to) {
    std::string text = kGood;
    auto pos = text.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    return text.replace(pos, from.size(), to);
}

TEST(Manifest, LoadsVariantsMethodsAndExpectations) {
    TempDir dir;
    auto family = load_manifest(write_family(dir, "demo", kGood));
    ASSERT_TRUE(family.ok()) << family.error().message;
    EXPECT_EQ(family->name, "demo");
    ASSERT_EQ(family->variants.size(), 2u);
    const Variant& two = family->variants[1];
    EXPECT_EQ(two.language, Language::native);
    EXPECT_EQ(two.args, std::vector<std::string>{"x"});
    EXPECT_EQ(two.repeat, 5);
    EXPECT_EQ(two.methods.size(), 3u);
    EXPECT_EQ(two.expect.at(Method::fork).kind, Expectation::Kind::hang_rate);
    EXPECT_EQ(family->variants[0].repeat, 1);
}

TEST(Manifest, SyntaxErrorsNameTheLine) {
    EXPECT_EQ(error_for(with("spawn = \"pass\"\n", "spawn = \"pass\n")).substr(0, 4), ":11:");
}

TEST(Manifest, UnknownKeysAreErrors) {
    std::string e = error_for(with("repeat = 5", "repeats = 5"));
    EXPECT_NE(e.find(":18:"), std::string::npos) << e;
    EXPECT_NE(e.find("unknown key 'repeats'"), std::string::npos) << e;
}

TEST(Manifest, EveryMethodNeedsAnExpectation) {
    std::string e = error_for(with("forkserver = \"pass, starts == 1\"\n", ""));
    EXPECT_NE(e.find("no expectation for method 'forkserver'"), std::string::npos) << e;
}

TEST(Manifest, BadValuesAreExplained) {
    EXPECT_NE(error_for(with("fork = \"hang\"", "fork = \"hangs\"")).find("'hangs'"), std::string::npos);
    EXPECT_NE(error_for(with("language = \"native\"", "language = \"rust\"")).find("'rust'"), std::string::npos);
    EXPECT_NE(error_for(with("\"fork\", \"spawn\"]", "\"fork\", \"vfork\"]")).find("unknown method"),
              std::string::npos);
    EXPECT_NE(error_for(with("repeat = 5", "repeat = 0")).find("repeat"), std::string::npos);
    EXPECT_NE(error_for(with("name = \"two\"", "name = \"one\"")).find("defined twice"), std::string::npos);
    EXPECT_NE(error_for(with("family = \"demo\"", "family = \"other\"")).find("folder name"), std::string::npos);
}

// Entries and names become paths: none may lead outside the family folder (python), be
// anything but a file name (native), or name a folder above the evidence.
TEST(Manifest, NothingInAManifestReachesOutsideItsFolder) {
    EXPECT_NE(error_for(with("entry = \"one.py\"", "entry = \"../other/x.py\"")).find("stay inside the family folder"),
              std::string::npos);
    EXPECT_NE(error_for(with("entry = \"one.py\"", "entry = \"/etc/passwd\"")).find("relative to the manifest"),
              std::string::npos);
    EXPECT_NE(error_for(with("entry = \"two\"", "entry = \"../../../../bin/true\"")).find("not a path"),
              std::string::npos);
    EXPECT_NE(error_for(with("name = \"two\"", "name = \"..\"")).find("names a folder"), std::string::npos);
    EXPECT_NE(error_for(with("name = \"two\"", "name = \"a b\"")).find("names a folder"), std::string::npos);
    TempDir dir;
    auto file = write_family(dir, "demo", kGood);
    std::filesystem::create_symlink("/etc/hostname", file.parent_path() / "one.py");
    auto family = load_manifest(file);
    ASSERT_FALSE(family.ok());
    EXPECT_NE(family.error().message.find("leads outside the family folder"), std::string::npos)
        << family.error().message;
}

// A FIFO as manifest.toml would block the reader for good; a symlink loop or an unreadable
// folder would throw. Each is an error of that entry, and the others load.
TEST(Catalog, WhatIsNotAManifestIsAnErrorNeverABlockOrACrash) {
    TempDir dir;
    write_family(dir, "demo", kGood);
    std::filesystem::create_directories(dir.path() / "fifo");
    ASSERT_EQ(mkfifo((dir.path() / "fifo" / "manifest.toml").c_str(), 0644), 0);
    std::filesystem::create_directory_symlink("loop", dir.path() / "loop");
    Catalog catalog = load_catalog(dir.path());
    ASSERT_EQ(catalog.families.size(), 1u);
    std::string errors;
    for (const auto& e : catalog.errors) errors += e.message + "\n";
    EXPECT_NE(errors.find("fifo/manifest.toml: not a regular file"), std::string::npos) << errors;
    EXPECT_NE(errors.find("loop"), std::string::npos) << errors;
}

TEST(Catalog, ABrokenManifestDoesNotHideTheOthers) {
    TempDir dir;
    write_family(dir, "demo", kGood);
    write_family(dir, "broken", "family = [");
    Catalog catalog = load_catalog(dir.path());
    ASSERT_EQ(catalog.families.size(), 1u);
    EXPECT_EQ(catalog.families[0].name, "demo");
    ASSERT_EQ(catalog.errors.size(), 1u);
    EXPECT_NE(catalog.errors[0].message.find("broken/manifest.toml:1:"), std::string::npos);
}

TEST(Matrix, SelectsFamiliesVariantsAndMethods) {
    TempDir dir;
    write_family(dir, "demo", kGood);
    Catalog catalog = load_catalog(dir.path());
    auto all = select_cells(catalog, {});
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(all->size(), 5u);
    auto some = select_cells(catalog, {.selectors = {"demo/two"}, .methods = {Method::fork, Method::forkserver}, .repeat = 3});
    ASSERT_TRUE(some.ok());
    ASSERT_EQ(some->size(), 2u);
    EXPECT_EQ((*some)[0].repeat, 3);
    EXPECT_EQ((*some)[1].method, Method::forkserver);
    auto own = select_cells(catalog, {.selectors = {"demo/two"}});
    ASSERT_TRUE(own.ok());
    EXPECT_EQ((*own)[0].repeat, 5);
}

TEST(Matrix, AShardKeepsEveryNthCellWithItsPlaceInTheFullMatrix) {
    TempDir dir;
    write_family(dir, "demo", kGood);
    Catalog catalog = load_catalog(dir.path());
    auto second = select_cells(catalog, {.shard = std::pair{2, 2}});
    ASSERT_TRUE(second.ok());
    ASSERT_EQ(second->size(), 2u);
    EXPECT_EQ((*second)[0].order, 1);
    EXPECT_EQ((*second)[1].order, 3);
    auto empty = select_cells(catalog, {.shard = std::pair{6, 6}});
    ASSERT_FALSE(empty.ok());
    EXPECT_NE(empty.error().message.find("only 5"), std::string::npos);
    EXPECT_FALSE(parse_shard("0/4").ok());
    EXPECT_FALSE(parse_shard("2/4x").ok());
}

TEST(Matrix, ACellCarriesItsNamesAndExpectationAsValues) {
    TempDir dir;
    write_family(dir, "demo", kGood);
    Cell cell;
    {
        Catalog catalog = load_catalog(dir.path());
        auto cells = select_cells(catalog, {.selectors = {"demo/two"}, .methods = {Method::spawn},
                                            .sanitizers = {Sanitizer::tsan}});
        ASSERT_TRUE(cells.ok());
        ASSERT_EQ(cells->size(), 1u);
        cell = cells->front();
    }  // the catalog is gone; the cell needs nothing of it
    EXPECT_EQ(cell.key(), "demo/two:spawn:tsan");
    EXPECT_EQ(cell.column(), "spawn/tsan");
    EXPECT_EQ(cell.label(), "demo/two spawn/tsan");
    EXPECT_EQ(cell.folder(), std::filesystem::path("demo/two/spawn-tsan"));
    EXPECT_FALSE(cell.expect.text.empty());
}

TEST(Matrix, UnknownNamesListWhatExists) {
    TempDir dir;
    write_family(dir, "demo", kGood);
    Catalog catalog = load_catalog(dir.path());
    auto family = select_cells(catalog, {.selectors = {"nope"}});
    ASSERT_FALSE(family.ok());
    EXPECT_NE(family.error().message.find("known: demo"), std::string::npos);
    auto variant = select_cells(catalog, {.selectors = {"demo/three"}});
    ASSERT_FALSE(variant.ok());
    EXPECT_NE(variant.error().message.find("one, two"), std::string::npos);
    EXPECT_FALSE(select_cells(catalog, {.selectors = {"demo/one"}, .methods = {Method::forkserver}}).ok());
}

}  // namespace
}  // namespace hangar
