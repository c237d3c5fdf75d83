// Where hangar finds its own files: the build-tree marker beside the binary, else an
// installed PREFIX/share/hangar, else an error that names both places.
#include "hangar/layout.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "pid_watch.hpp"

namespace hangar {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

void write(const fs::path& file, const std::string& text) {
    fs::create_directories(file.parent_path());
    std::ofstream(file) << text;
}

TEST(Layout, AnInstalledTreeIsFoundRelativeToTheBinary) {
    TempDir dir;
    const fs::path prefix = dir.path() / "opt" / "hangar";
    fs::create_directories(prefix / "share/hangar/scenarios");
    auto layout = find_layout(prefix / "bin/hangar");
    ASSERT_TRUE(layout) << layout.error().message;
    EXPECT_EQ(layout->kind, Layout::Kind::installed);
    EXPECT_EQ(layout->found_by, prefix / "share/hangar");
    EXPECT_EQ(layout->scenarios, prefix / "share/hangar/scenarios");
    EXPECT_EQ(layout->scenario_bin, prefix / "lib/hangar/scenarios");
    EXPECT_EQ(layout->forkwatch, prefix / "lib/hangar/libhangar_forkwatch.so");
    EXPECT_EQ(layout->python, prefix / "share/hangar/python");
    EXPECT_EQ(layout->cmake_package, prefix / "lib/cmake/hangar");
}

TEST(Layout, TheBuildTreeMarkerNamesEveryPath) {
    TempDir dir;
    write(dir.path() / "build" / kBuildTreeMarker,
          "# a comment\n\nscenarios=/src/scenarios\nscenario-bin=/b/scenarios/bin\nforkwatch=/b/lib/libhangar_forkwatch.so\n"
          "python=/src/python\n");
    auto layout = find_layout(dir.path() / "build/hangar");
    ASSERT_TRUE(layout) << layout.error().message;
    EXPECT_EQ(layout->kind, Layout::Kind::build_tree);
    EXPECT_EQ(layout->found_by, dir.path() / "build" / kBuildTreeMarker);
    EXPECT_EQ(layout->scenarios, "/src/scenarios");
    EXPECT_EQ(layout->scenario_bin, "/b/scenarios/bin");
    EXPECT_EQ(layout->forkwatch, "/b/lib/libhangar_forkwatch.so");
    EXPECT_EQ(layout->python, "/src/python");
    EXPECT_TRUE(layout->cmake_package.empty());
}

// A build folder inside an install prefix (/usr/local/build/hangar beside an installed
// /usr/local/share/hangar) uses its own trees, not the installed ones.
TEST(Layout, TheMarkerWinsOverAnInstallBesideTheBuildFolder) {
    TempDir dir;
    fs::create_directories(dir.path() / "share/hangar/scenarios");
    write(dir.path() / "bin" / kBuildTreeMarker,
          "scenarios=/s\nscenario-bin=/b\nforkwatch=/f.so\npython=/p\n");
    auto layout = find_layout(dir.path() / "bin/hangar");
    ASSERT_TRUE(layout) << layout.error().message;
    EXPECT_EQ(layout->kind, Layout::Kind::build_tree);
    EXPECT_EQ(layout->scenarios, "/s");
}

TEST(Layout, NeitherIsAnErrorNamingBothPlaces) {
    TempDir dir;
    auto layout = find_layout(dir.path() / "bin/hangar");
    ASSERT_FALSE(layout);
    EXPECT_NE(layout.error().message.find((dir.path() / "bin" / kBuildTreeMarker).string()), std::string::npos)
        << layout.error().message;
    EXPECT_NE(layout.error().message.find((dir.path() / "share/hangar").string()), std::string::npos)
        << layout.error().message;
    EXPECT_EQ(layout.error().message.find('\n'), std::string::npos);
    EXPECT_EQ(layout.error().kind, Error::Kind::internal);
}

TEST(Layout, AMalformedMarkerSaysFileAndLine) {
    struct Case {
        std::string text, says;
    };
    const std::vector<Case> cases = {
        {"scenarios=/s\nscenario-bin=relative/bin\n", ":2: scenario-bin is not an absolute path"},
        {"scenarios=/s\njust words\n", ":2: not a key=value line"},
        {"sceanrios=/s\n", ":1: unknown key 'sceanrios'"},
        {"scenarios=/s\nscenario-bin=/b\nforkwatch=/f.so\n", "no python= line"},
        {"", "no scenarios= line"},
    };
    for (const auto& c : cases) {
        TempDir dir;
        write(dir.path() / kBuildTreeMarker, c.text);
        auto layout = find_layout(dir.path() / "hangar");
        ASSERT_FALSE(layout) << c.text;
        EXPECT_NE(layout.error().message.find(c.says), std::string::npos) << layout.error().message;
        EXPECT_NE(layout.error().message.find(kBuildTreeMarker), std::string::npos) << layout.error().message;
    }
}

// The hangar of this build finds this build's trees through its marker.
TEST(Layout, TheBuiltBinaryUsesItsBuildTree) {
    auto layout = find_layout(HANGAR_BIN);
    ASSERT_TRUE(layout) << layout.error().message;
    EXPECT_EQ(layout->kind, Layout::Kind::build_tree);
    EXPECT_TRUE(fs::is_regular_file(layout->python / "startup/sitecustomize.py"));
    EXPECT_TRUE(fs::is_regular_file(layout->python / "hangar_check.py"));
    EXPECT_TRUE(fs::is_directory(layout->scenarios / "logging-lock"));
    EXPECT_TRUE(fs::is_regular_file(layout->forkwatch));
}

}  // namespace
}  // namespace hangar
