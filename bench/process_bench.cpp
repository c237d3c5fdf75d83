// Benchmark (not a test): what supervision itself costs per run, against a bare
// posix_spawn + waitpid of the same do-nothing program. Prints per-launch times.
#include <benchmark/benchmark.h>
#include <spawn.h>
#include <sys/wait.h>

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

void Supervised(benchmark::State& state, bool contain) {
    hangar::CommandSpec spec;
    spec.argv = {kNoop, "--method", "fork"};
    spec.environment = hangar::current_environment();
    spec.stdout_path = "/dev/null";
    spec.stderr_path = "/dev/null";
    spec.contain = contain;
    hangar::WatchOptions options;
    options.limit = std::chrono::seconds(10);
    for (auto _ : state) {
        auto tree = hangar::ProcessTree::launch(spec);
        auto w = hangar::watch(*tree, options);
        benchmark::DoNotOptimize(w);
    }
}
// The harness's way: a reaper as PID 1 of a new PID namespace, then the command.
BENCHMARK_CAPTURE(Supervised, pid_namespace, true)->Unit(benchmark::kMicrosecond)->UseRealTime();
// What the namespace and reaper cost: the same without them.
BENCHMARK_CAPTURE(Supervised, direct_child, false)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
