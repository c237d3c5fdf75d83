// Benchmark (not a test): what supervision itself costs per run, against a bare
// posix_spawn + waitpid of the same do-nothing program. Prints per-launch times.
#include <benchmark/benchmark.h>
#include <spawn.h>
#include <sys/wait.h>

#include "hangar/pid_namespace.hpp"
#include "hangar/process.hpp"
#include "hangar/watchdog.hpp"

extern char** environ;

namespace {

const std::string kNoop = NOOP_SCENARIO;

void BareSpawn(benchmark::State& state) {
    char* argv[] = {const_cast<char*>(kNoop.c_str()), nullptr};
    for (auto _ : state) {
        pid_t pid;
        posix_spawn(&pid, argv[0], nullptr, nullptr, argv, environ);
        waitpid(pid, nullptr, 0);
    }
}
BENCHMARK(BareSpawn)->Unit(benchmark::kMicrosecond)->UseRealTime();

enum class Containment { new_namespace, kept_namespace, none };

void Supervised(benchmark::State& state, Containment how) {
    hangar::CommandSpec spec;
    spec.argv = {kNoop, "--method", "fork"};
    spec.environment = hangar::current_environment();
    spec.stdout_path = "/dev/null";
    spec.stderr_path = "/dev/null";
    spec.contain = how != Containment::none;
    hangar::WatchOptions options;
    options.limit = std::chrono::seconds(10);
    auto ns = hangar::PidNamespace::create();
    for (auto _ : state) {
        auto tree = how == Containment::kept_namespace ? hangar::ProcessTree::launch(spec, *ns)
                                                       : hangar::ProcessTree::launch(spec);
        auto w = hangar::watch(*tree, options);
        benchmark::DoNotOptimize(w);
    }
}
// `hangar run`'s way: each worker thread keeps one PID namespace for all its runs.
BENCHMARK_CAPTURE(Supervised, kept_namespace, Containment::kept_namespace)->Unit(benchmark::kMicrosecond)->UseRealTime();
// `hangar exec`'s way: a namespace (reaper, proc mount) created for the one run.
BENCHMARK_CAPTURE(Supervised, new_namespace, Containment::new_namespace)->Unit(benchmark::kMicrosecond)->UseRealTime();
// What containment costs: the same without it.
BENCHMARK_CAPTURE(Supervised, direct_child, Containment::none)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
