#include "hangar/verdict.hpp"

namespace hangar {

std::string_view to_string(Verdict v) {
    switch (v) {
        case Verdict::pass: return "pass";
        case Verdict::fail: return "fail";
        case Verdict::crash: return "crash";
        case Verdict::timeout: return "timeout";
        case Verdict::deadlock: return "deadlock";
    }
    return "?";
}

std::optional<Verdict> parse_verdict(std::string_view text) {
    for (Verdict v : kAllVerdicts)
        if (to_string(v) == text) return v;
    return std::nullopt;
}

Verdict classify(const Ending& ending) {
    switch (ending.kind) {
        case Ending::Kind::exited: return ending.code == 0 ? Verdict::pass : Verdict::fail;
        case Ending::Kind::signaled: return Verdict::crash;
        case Ending::Kind::timed_out: return Verdict::timeout;
        case Ending::Kind::deadlocked: return Verdict::deadlock;
    }
    return Verdict::fail;
}

}  // namespace hangar
