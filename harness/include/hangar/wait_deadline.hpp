// When a timed wait can end by itself, judged against the run's time limit.
//
// A thread that will wake on its own before hangar ends the run may act when it wakes, so
// the run is not proven stuck. A thread whose wait cannot end before the run's limit is,
// for this run, as good as one with no deadline at all: it will not act before the verdict
// hangar would give anyway, and the run cannot finish in time.
#pragma once

#include <time.h>

#include <chrono>
#include <optional>
#include <string>

namespace hangar {

using SteadyClock = std::chrono::steady_clock;  // CLOCK_MONOTONIC on Linux

// The run's time frame: it started no earlier than `start` (taken before its command was
// launched, so every call of the run began after it), and hangar ends it at `deadline`.
struct RunWindow {
    SteadyClock::time_point start;
    SteadyClock::time_point deadline;
};

// A wait's timeout, as the call gave it.
struct Timeout {
    enum class Kind {
        none,      // waits until something else ends it
        relative,  // `value` from the start of the call (poll's ms, nanosleep, FUTEX_WAIT)
        absolute,  // `value` on `clock` (FUTEX_WAIT_BITSET, clock_nanosleep TIMER_ABSTIME)
        unknown,   // has one, but hangar cannot tell when it expires
    };
    Kind kind = Kind::none;
    std::chrono::nanoseconds value{0};
    clockid_t clock = CLOCK_MONOTONIC;
    std::string why_unknown;  // for `unknown`: what could not be read
    // Where in the process's memory hangar read the value (0: an argument by value). The
    // kernel copied it when the call began; hangar reads it now, and trusts that only as
    // far as nothing else could have rewritten it since (see the wait graph).
    uint64_t read_at = 0;

    static Timeout relative_to_call(std::chrono::nanoseconds v) { return {Kind::relative, v, CLOCK_MONOTONIC, {}, 0}; }
    static Timeout at(std::chrono::nanoseconds v, clockid_t c) { return {Kind::absolute, v, c, {}, 0}; }
    static Timeout unreadable(std::string why) { return {Kind::unknown, {}, CLOCK_MONOTONIC, std::move(why), 0}; }
};

// The earliest moment, on the steady clock, at which the wait can end by itself; nullopt
// when that cannot be known (an unknown timeout, a clock that only CPU time moves).
// A relative timeout counts from the call's start, which hangar does not see: the call
// started after the run did, so the earliest end is window.start + value. `now` and the
// clocks' readings at `now` convert an absolute time on another clock.
std::optional<SteadyClock::time_point> earliest_end(const Timeout& t, const RunWindow& window,
                                                    SteadyClock::time_point now);

// Whether a wait with timeout `t` may end by itself while the run can still finish: true
// for any timeout hangar cannot place, and for every timeout when no window is known.
// False for no timeout, and for one that cannot expire before window->deadline.
bool may_end_in_time(const Timeout& t, const RunWindow* window, SteadyClock::time_point now);

// "100 ms", "2.5 s", "115 days": for the evidence.
std::string human_duration(std::chrono::nanoseconds d);

// The timeout for a human: "a 100 ms timeout", "a deadline 115 days away", "no timeout".
std::string describe(const Timeout& t, SteadyClock::time_point now);

}  // namespace hangar
