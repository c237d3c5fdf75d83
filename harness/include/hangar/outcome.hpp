// What a cell came to against its expectation: one table of result codes, as lit has,
// decided once where the cell is judged and only read by every report.
#pragma once

#include <string_view>

namespace hangar {

enum class Outcome {
    met,             // the runs did what the manifest says
    missed,          // they did not (an expected hang that did not happen is a miss too)
    undecided,       // stochastic: the hang rate's interval straddles the floor; more runs needed
    not_applicable,  // listed, never run (a python variant under a sanitizer)
};

// For a missed cell: what the miss means for someone watching a matrix over time.
enum class Miss {
    none,                  // not missed
    regression,            // expected to pass, and hung
    no_longer_reproduces,  // expected to hang, and hung less (fixed upstream, or a changed race)
    other,                 // any other miss (an unexpected failure or crash, wrong starts...)
};

struct OutcomeLabel {
    std::string_view word;   // results.json, HTML: "met", "missed", "undecided", "not applicable"
    std::string_view shout;  // terminal table: "met", "MISSED", "UNDECIDED", "n/a"
    std::string_view mark;   // summary.md: an emoji, or "n/a"
};

const OutcomeLabel& label(Outcome o);
std::string_view to_string(Outcome o);  // label(o).word
std::string_view to_string(Miss m);     // "", "regression", "no longer reproduces", "missed"

}  // namespace hangar
