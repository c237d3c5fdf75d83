// Reproduces: a forked child blocking forever on a std::mutex another thread held at fork.
// Seen in: every multi-threaded C++ program that forks without exec (a worker pool, a logger, a cache).
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "start_method.hpp"  // hangar's scenario support: --method fork|spawn|forkserver

namespace {

std::mutex cache_mutex;  // stands in for any lock a library takes: a cache, a logger, an allocator

int child_body() {
    scenario::mark("child: taking the cache mutex");
    std::lock_guard lock(cache_mutex);
    scenario::mark("child: took the cache mutex");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // First, before any thread: under forkserver this starts the server.
    scenario::StartMethod start(argc, argv);
    if (start.is_child()) return child_body();  // spawn, forkserver: a fresh process

    std::atomic<bool> held{false};
    std::thread worker([&] {
        std::lock_guard lock(cache_mutex);
        held = true;
        held.notify_one();
        // Widens the window: the child starts while the mutex is held.
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
    });
    held.wait(false);

    scenario::mark("parent: a thread holds the cache mutex; starting the child");
    // Waits for the child without a timeout: a hung child keeps the parent waiting too.
    const int status = start.run_child(child_body);
    scenario::mark("parent: child ended with status " + std::to_string(status));
    worker.join();
    return status == 0 ? 0 : 1;
}
