// When a timed wait can end, against the run's time limit.
#include "hangar/wait_deadline.hpp"

#include <gtest/gtest.h>

namespace hangar {
namespace {

using namespace std::chrono_literals;

TEST(WaitDeadline, ARelativeTimeoutCountsFromTheRunsStart) {
    const auto now = SteadyClock::now();
    RunWindow window{now - 2s, now + 8s};
    EXPECT_TRUE(may_end_in_time(Timeout::relative_to_call(9s), &window, now));   // could have started at 0 s
    EXPECT_FALSE(may_end_in_time(Timeout::relative_to_call(11s), &window, now));  // past the limit however it began
    EXPECT_TRUE(may_end_in_time(Timeout::relative_to_call(11s), nullptr, now));   // no limit known
    EXPECT_FALSE(may_end_in_time(Timeout{}, &window, now));
    EXPECT_TRUE(may_end_in_time(Timeout::unreadable("x"), &window, now));
    const auto mono = [](SteadyClock::time_point t) { return t.time_since_epoch(); };
    EXPECT_TRUE(may_end_in_time(Timeout::at(mono(now + 5s), CLOCK_MONOTONIC), &window, now));
    EXPECT_FALSE(may_end_in_time(Timeout::at(mono(now + 9s), CLOCK_MONOTONIC), &window, now));
    EXPECT_TRUE(may_end_in_time(Timeout::at(1s, CLOCK_PROCESS_CPUTIME_ID), &window, now));  // CPU time: unknown
    timespec real{};
    clock_gettime(CLOCK_REALTIME, &real);
    const auto real_now = std::chrono::seconds(real.tv_sec) + std::chrono::nanoseconds(real.tv_nsec);
    EXPECT_TRUE(may_end_in_time(Timeout::at(real_now + 5s, CLOCK_REALTIME), &window, now));
    EXPECT_FALSE(may_end_in_time(Timeout::at(real_now + 115 * 24h, CLOCK_REALTIME), &window, now));
    EXPECT_EQ(human_duration(100ms), "100 ms");
    EXPECT_EQ(human_duration(115 * 24h), "115 days");
}

}  // namespace
}  // namespace hangar
