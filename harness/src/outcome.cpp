#include "hangar/outcome.hpp"

namespace hangar {

const OutcomeLabel& label(Outcome o) {
    static const OutcomeLabel labels[] = {
        {"met", "met", "\u2705"},
        {"missed", "MISSED", "\u274C"},
        {"undecided", "UNDECIDED", "\u2754"},
        {"not applicable", "n/a", "n/a"},
    };
    return labels[static_cast<int>(o)];
}

std::string_view to_string(Outcome o) { return label(o).word; }

std::string_view to_string(Miss m) {
    switch (m) {
        case Miss::none: return "";
        case Miss::regression: return "regression";
        case Miss::no_longer_reproduces: return "no longer reproduces";
        case Miss::other: return "missed";
    }
    return "?";
}

}  // namespace hangar
