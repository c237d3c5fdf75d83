// Benchmark (not a test): what supervision itself costs per run, against a bare
// posix_spawn + waitpid of the same do-nothing program. Prints per-launch times.
#include <benchmark/benchmark.h>
#include <spawn.h>
#include <sys/wait.h>

#include <thread>

#include "hangar/pid_namespace.hpp"
#include "hangar/process.hpp"
#include "hangar/stall.hpp"
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

// What one stall-detection sample costs, on trees of three shapes: a busy one (a sample
// stops at the first running thread), one that sleeps (a timed wait), and a Python pool
// stuck for good (five processes: every thread, wait and open file is read).
void StallSample(benchmark::State& state, std::vector<std::string> argv) {
    hangar::CommandSpec spec;
    spec.argv = std::move(argv);
    spec.environment = hangar::current_environment();
    spec.stdout_path = "/dev/null";
    spec.stderr_path = "/dev/null";
    auto tree = hangar::ProcessTree::launch(spec);
    if (!tree) {
        state.SkipWithError(tree.error().message.c_str());
        return;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));  // until it has its shape
    for (auto _ : state) {
        hangar::StallDetector detector;
        benchmark::DoNotOptimize(detector.observe(tree->root_pid(), std::chrono::steady_clock::now()));
    }
}
BENCHMARK_CAPTURE(StallSample, busy, {"/bin/sh", "-c", "while :; do :; done"})
    ->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(StallSample, sleeping, {"/bin/sleep", "1000"})->Unit(benchmark::kMicrosecond)->UseRealTime();
// Stuck for good on a pipe only it holds: a full sample, with the search of the machine's
// other processes for a holder of that pipe.
BENCHMARK_CAPTURE(StallSample, stuck_pipe, {"/usr/bin/python3", "-c", "import os\nr, w = os.pipe()\nos.read(r, 1)\n"})
    ->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(StallSample, stuck_pool,
                  {"/usr/bin/python3", "-c",
                   "import multiprocessing as mp, threading\n"
                   "if __name__ == '__main__':\n"
                   "    pool = mp.Pool(4)\n"
                   "    lock = threading.Lock()\n"
                   "    lock.acquire()\n"
                   "    lock.acquire()\n"})
    ->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
