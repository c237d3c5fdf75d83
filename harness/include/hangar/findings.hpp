// Sanitizer reports in a run's stderr, turned into structured findings.
#pragma once

#include <string>
#include <vector>

namespace hangar {

struct Finding {
    std::string tool;     // ThreadSanitizer | AddressSanitizer | LeakSanitizer | UndefinedBehaviorSanitizer
    std::string kind;     // "data race", "heap-use-after-free", "runtime error"...
    std::string summary;  // the report's SUMMARY line, without its "SUMMARY: TOOL: " prefix
    std::vector<std::string> frames;  // the first frames of the report's first stack
};

// Every report in `stderr_text`, in order. Identical reports are kept: counts matter.
std::vector<Finding> parse_findings(const std::string& stderr_text);

}  // namespace hangar
