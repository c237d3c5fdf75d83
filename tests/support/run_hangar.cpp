#include "run_hangar.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <cerrno>

#include "hangar/process.hpp"
#include "pid_watch.hpp"

namespace hangar::testing {
pid_t start_hangar(const std::vector<std::string>& args, const std::filesystem::path& dir,
                   const std::vector<std::string>& extra_env, bool with_fixtures) {
    std::vector<std::string> argv{HANGAR_BIN};
    if (with_fixtures) {
        argv.insert(argv.end(), {"--scenarios", FIXTURE_SCENARIOS, "--scenario-bin",
                                 std::filesystem::path(TREE_MAKER).parent_path().string()});
    }
    argv.insert(argv.end(), args.begin(), args.end());
    // extra_env replaces what the environment already has of the same name (PATH, say).
    std::vector<std::string> env;
    for (const auto& e : current_environment()) {
        const std::string name = e.substr(0, e.find('=') + 1);
        bool replaced = false;
        for (const auto& x : extra_env) replaced |= x.rfind(name, 0) == 0;
        if (!replaced) env.push_back(e);
    }
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    std::vector<char*> cargv, cenv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    for (auto& e : env) cenv.push_back(e.data());
    cenv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, (dir / "hangar.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, (dir / "hangar.err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
    pid_t pid = -1;
    posix_spawn(&pid, cargv[0], &actions, nullptr, cargv.data(), cenv.data());
    posix_spawn_file_actions_destroy(&actions);
    return pid;
}

Finished wait_hangar(pid_t pid, const std::filesystem::path& dir) {
    int status = 0;
    rusage usage{};
    while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
    }
    Finished f;
    f.max_rss_kb = usage.ru_maxrss;
    f.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    f.out = slurp(dir / "hangar.out");
    f.err = slurp(dir / "hangar.err");
    return f;
}

Finished run_hangar(const std::vector<std::string>& args, const std::filesystem::path& dir,
                    const std::vector<std::string>& extra_env, bool with_fixtures) {
    return wait_hangar(start_hangar(args, dir, extra_env, with_fixtures), dir);
}

}  // namespace hangar::testing
