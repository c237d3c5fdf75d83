// Reproduces: a child started while other threads enumerate passwd hangs in getpwent on glibc's enumeration lock.
// Seen in: Parsl issue #2343 (a forked Work Queue process stuck on a glibc NSS lock).
//
// Threads enumerate the passwd database (setpwent, getpwent until the end, endpwent) in a
// loop while the main thread starts one child, which enumerates too. Every step of an
// enumeration takes the static lock of nss/getXXent_r.c (and nss_files takes its own module
// lock while it reads /etc/passwd); fork() resets neither, so a child forked while a thread
// holds one waits forever on its copy. With two threads contending, one of them holds the
// lock almost all the time.
#include "start_method.hpp"

#include <pwd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

namespace {

constexpr int kEnumeratorThreads = 2;

// Returns the number of entries; glibc keeps one enumeration position per process, so
// concurrent enumerators share it and each sees only part of the file.
int enumerate_passwd() {
    int entries = 0;
    setpwent();
    while (getpwent() != nullptr) ++entries;
    endpwent();
    return entries;
}

int child() {
    scenario::mark("child enumerating passwd");
    int entries = enumerate_passwd();
    std::fprintf(stderr, "child read %d passwd entries\n", entries);
    return entries > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    scenario::StartMethod start(argc, argv);
    if (start.is_child()) return child();

    using Clock = std::chrono::steady_clock;
    std::atomic<Clock::rep> stop_at = Clock::time_point::max().time_since_epoch().count();
    std::array<std::atomic<bool>, kEnumeratorThreads> enumerated_once{};
    std::array<std::thread, kEnumeratorThreads> enumerators;
    for (int i = 0; i < kEnumeratorThreads; ++i) {
        enumerators[i] = std::thread([&stop_at, &once = enumerated_once[i]] {
            while (Clock::now().time_since_epoch().count() < stop_at.load()) {
                enumerate_passwd();
                if (!once.exchange(true)) once.notify_one();
            }
        });
    }
    for (auto& once : enumerated_once) once.wait(false);  // every thread is inside its loop
    // A random delay, so that the fork lands at a different point of the threads' loops.
    std::random_device seed;
    std::uniform_int_distribution<int> delay_us(10'000, 100'000);
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(seed)));

    // The threads stop by themselves 100 ms after this point, far longer than starting the
    // child takes: they enumerate through the fork, then leave a parent with a hung child
    // idle in its untimed waitpid, as the harness's stall detection expects.
    stop_at = (Clock::now() + std::chrono::milliseconds(100)).time_since_epoch().count();
    scenario::mark("starting the child while 2 threads enumerate passwd");
    int status = start.run_child(child);
    for (auto& t : enumerators) t.join();
    std::fprintf(stderr, "child exited with %d\n", status);
    return status == 0 ? 0 : 1;
}
