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

int start_child_amid(int threads, const std::function<bool()>& work, std::string_view what,
                     const std::function<int()>& start_child) {
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
    std::uniform_int_distribution<int> delay_us(10'000, 100'000);
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(seed)));

    stop_at = (Clock::now() + std::chrono::milliseconds(100)).time_since_epoch().count();
    mark("starting the child while " + std::to_string(threads) + " threads " + std::string(what));
    int status = start_child();
    for (auto& t : workers) t.join();
    return status;
}

}  // namespace scenario
