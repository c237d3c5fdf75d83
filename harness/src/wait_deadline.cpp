#include "hangar/wait_deadline.hpp"

#include <cstdio>

namespace hangar {
namespace {

using std::chrono::nanoseconds;

nanoseconds clock_now(clockid_t c) {
    timespec ts{};
    clock_gettime(c, &ts);
    return std::chrono::seconds(ts.tv_sec) + nanoseconds(ts.tv_nsec);
}

// Clocks that CPU time moves (CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, and the
// negative ids of clock_getcpuclockid): where one of them will stand at a given moment
// cannot be known from outside.
bool cpu_clock(clockid_t c) { return c == CLOCK_PROCESS_CPUTIME_ID || c == CLOCK_THREAD_CPUTIME_ID || c < 0; }

}  // namespace

std::optional<SteadyClock::time_point> earliest_end(const Timeout& t, const RunWindow& window,
                                                    SteadyClock::time_point now) {
    switch (t.kind) {
        case Timeout::Kind::none: return SteadyClock::time_point::max();
        case Timeout::Kind::unknown: return std::nullopt;
        case Timeout::Kind::relative: {
            // Saturate: a timeout of years must not wrap around.
            if (t.value > SteadyClock::time_point::max() - window.start) return SteadyClock::time_point::max();
            return window.start + std::chrono::duration_cast<SteadyClock::duration>(t.value);
        }
        case Timeout::Kind::absolute: {
            if (cpu_clock(t.clock)) return std::nullopt;
            if (t.clock == CLOCK_MONOTONIC || t.clock == CLOCK_MONOTONIC_COARSE || t.clock == CLOCK_MONOTONIC_RAW)
                return SteadyClock::time_point(std::chrono::duration_cast<SteadyClock::duration>(t.value));
            // Another clock (REALTIME, BOOTTIME, TAI): it runs at the monotonic clock's pace
            // unless someone sets it (settimeofday, an NTP step) or the machine suspends,
            // which hangar counts as outside intervention, like a kill from outside.
            const nanoseconds left = t.value - clock_now(t.clock);
            if (left > SteadyClock::time_point::max() - now) return SteadyClock::time_point::max();
            return now + std::chrono::duration_cast<SteadyClock::duration>(left);
        }
    }
    return std::nullopt;
}

bool may_end_in_time(const Timeout& t, const RunWindow* window, SteadyClock::time_point now) {
    if (t.kind == Timeout::Kind::none) return false;
    if (!window || t.kind == Timeout::Kind::unknown) return true;
    auto end = earliest_end(t, *window, now);
    return !end || *end < window->deadline;
}

std::string human_duration(nanoseconds d) {
    using namespace std::chrono;
    char buf[64];
    const double s = duration<double>(d).count();
    if (s < 0) return "the past";
    if (s < 1) std::snprintf(buf, sizeof buf, "%.0f ms", s * 1000);
    else if (s < 120) std::snprintf(buf, sizeof buf, "%.3g s", s);
    else if (s < 7200) std::snprintf(buf, sizeof buf, "%.0f min", s / 60);
    else if (s < 3 * 86400) std::snprintf(buf, sizeof buf, "%.0f h", s / 3600);
    else std::snprintf(buf, sizeof buf, "%.0f days", s / 86400);
    return buf;
}

std::string describe(const Timeout& t, SteadyClock::time_point now) {
    switch (t.kind) {
        case Timeout::Kind::none: return "no timeout";
        case Timeout::Kind::unknown: return "a timeout hangar cannot read (" + t.why_unknown + ")";
        case Timeout::Kind::relative: return "a " + human_duration(t.value) + " timeout";
        case Timeout::Kind::absolute: {
            if (cpu_clock(t.clock)) return "a deadline on a CPU-time clock";
            RunWindow any{now, now};
            auto end = earliest_end(t, any, now);
            if (!end || *end == SteadyClock::time_point::max()) return "a deadline beyond any run";
            return "a deadline " + human_duration(*end - now) + " away";
        }
    }
    return "?";
}

}  // namespace hangar
