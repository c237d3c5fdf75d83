// What one supervised run came to.
#pragma once

#include <optional>
#include <string_view>

namespace hangar {

// `timeout` and `deadlock` are both hangs: a timeout is only known when the limit
// expires, a deadlock is proven earlier from outside (stall detection).
enum class Verdict { pass, fail, crash, timeout, deadlock };

inline constexpr Verdict kAllVerdicts[] = {Verdict::pass, Verdict::fail, Verdict::crash,
                                           Verdict::timeout, Verdict::deadlock};

constexpr bool is_hang(Verdict v) { return v == Verdict::timeout || v == Verdict::deadlock; }

std::string_view to_string(Verdict v);
std::optional<Verdict> parse_verdict(std::string_view text);

// How a run ended, as far as the supervisor saw it.
struct Ending {
    enum class Kind { exited, signaled, timed_out, deadlocked };
    Kind kind = Kind::exited;
    int code = 0;  // exit status for `exited`, signal number for `signaled`
};

// exit 0 -> pass, other exit -> fail, a signal the harness did not send -> crash.
Verdict classify(const Ending& ending);

}  // namespace hangar
