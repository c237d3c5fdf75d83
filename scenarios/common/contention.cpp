#include "contention.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "start_method.hpp"

namespace scenario {

namespace {

int one_child_amid(int threads, const std::function<bool()>& work, std::string_view what,
                   const std::function<int()>& start_child, int min_delay_us, int max_delay_us,
                   int tail_ms) {
    using Clock = std::chrono::steady_clock;
    std::atomic<Clock::rep> stop_at = Clock::time_point::max().time_since_epoch().count();
    std::unique_ptr<std::atomic<bool>[]> once(new std::atomic<bool>[threads]);
    std::vector<std::thread> workers;
    for (int i = 0; i < threads; ++i) {
        once[i] = false;
        workers.emplace_back([&, i] {
            while (Clock::now().time_since_epoch().count() < stop_at.load()) {
                bool go_on = work();
                if (!once[i].exchange(true)) once[i].notify_one();
                if (!go_on) return;
            }
        });
    }
    for (int i = 0; i < threads; ++i) once[i].wait(false);  // every thread is inside its loop
    std::random_device seed;
    std::uniform_int_distribution<int> delay_us(min_delay_us, max_delay_us);
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(seed)));

    stop_at = (Clock::now() + std::chrono::milliseconds(tail_ms)).time_since_epoch().count();
    mark("starting the child while " + std::to_string(threads) + " threads " + std::string(what));
    int status = start_child();
    for (auto& t : workers) t.join();
    return status;
}

}  // namespace

int start_child_amid(int threads, const std::function<bool()>& work, std::string_view what,
                     const std::function<int()>& start_child, int attempts) {
    int status = one_child_amid(threads, work, what, start_child, 10'000, 100'000, 100);
    for (int attempt = 2; status == 0 && attempt <= attempts; ++attempt) {
        mark("child " + std::to_string(attempt - 1) + " of at most " + std::to_string(attempts) +
             " finished; starting another");
        status = one_child_amid(threads, work, what, start_child, 1'000, 10'000, 20);
    }
    return status;
}

}  // namespace scenario
