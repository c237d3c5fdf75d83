// Reproduces: a child started while other threads resolve names hangs in getaddrinfo on glibc's __check_pf lock.
// Seen in: openpbs PR #2299 (getaddrinfo lock inherited by a child) and Parsl issue #2343 (NSS lock in a forked process).
//
// Threads resolve "localhost" with AI_ADDRCONFIG in a loop; the main thread starts one child
// at a random moment and the child resolves too. AI_ADDRCONFIG makes glibc ask the kernel
// for the host's addresses in __check_pf (sysdeps/unix/sysv/linux/check_pf.c): a netlink
// round trip made under a static lock that fork() does not reset. If a resolver thread holds
// it at the fork, the child's getaddrinfo waits forever on its copy. Stochastic: one run
// starts one child, so one run gives one verdict.
#include "start_method.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

namespace {

constexpr int kResolverThreads = 2;

bool resolve() {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;  // what reaches __check_pf (also the default for NULL hints)
    addrinfo* result = nullptr;
    int err = getaddrinfo("localhost", "80", &hints, &result);
    if (err != 0) {
        std::fprintf(stderr, "getaddrinfo(localhost): %s\n", gai_strerror(err));
        return false;
    }
    freeaddrinfo(result);
    return true;
}

int child() {
    scenario::mark("child resolving localhost with AI_ADDRCONFIG");
    if (!resolve()) return 1;
    scenario::mark("child resolved");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    scenario::StartMethod start(argc, argv);
    if (start.is_child()) return child();

    using Clock = std::chrono::steady_clock;
    std::atomic<Clock::rep> stop_at = Clock::time_point::max().time_since_epoch().count();
    std::array<std::atomic<bool>, kResolverThreads> resolved_once{};
    std::array<std::thread, kResolverThreads> resolvers;
    for (int i = 0; i < kResolverThreads; ++i) {
        resolvers[i] = std::thread([&stop_at, &once = resolved_once[i]] {
            while (Clock::now().time_since_epoch().count() < stop_at.load()) {
                bool ok = resolve();
                if (!once.exchange(true)) once.notify_one();
                if (!ok) return;  // the child's own resolution will fail the run
            }
        });
    }
    for (auto& once : resolved_once) once.wait(false);  // every thread is inside its loop
    // A random delay, so that the fork lands at a different point of the threads' loops from
    // run to run; the lock is held for a large share of each resolution.
    std::random_device seed;
    std::uniform_int_distribution<int> delay_us(10'000, 100'000);
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(seed)));

    // The threads stop by themselves 100 ms after this point, far longer than starting the
    // child takes: they resolve through the fork, then leave a parent with a hung child idle
    // in its untimed waitpid, as the harness's stall detection expects.
    stop_at = (Clock::now() + std::chrono::milliseconds(100)).time_since_epoch().count();
    scenario::mark("starting the child while 2 threads resolve localhost");
    int status = start.run_child(child);
    for (auto& t : resolvers) t.join();
    std::fprintf(stderr, "child exited with %d\n", status);
    return status == 0 ? 0 : 1;
}
