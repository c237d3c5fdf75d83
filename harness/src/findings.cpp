#include "hangar/findings.hpp"

#include <regex>

#include "hangar/text.hpp"

namespace hangar {
namespace {

// A sanitizer's report lines are short; a program may print lines of any length. The
// regexes below see at most this much of a line (libstdc++'s std::regex recurses per
// character: a 100 KB line would overflow the stack).
constexpr size_t kLineLimit = 2048;
// Enough to count what a run reports; a program that loops printing reports gets a count
// that says it was cut.
constexpr size_t kMaxFindings = 1000;

std::string field(const std::ssub_match& m) { return one_line(m.str(), 512); }

}  // namespace

std::vector<Finding> parse_findings(const std::string& text) {
    static const std::regex header(R"((?:WARNING|ERROR): (ThreadSanitizer|AddressSanitizer|LeakSanitizer): ([^(]*?)(?: \(pid=\d+\)| on .*)?$)");
    static const std::regex ubsan(R"(^(.*?:\d+:\d+): runtime error: (.*)$)");
    static const std::regex frame(R"(^\s+#\d+ (?:0x[0-9a-f]+ in )?(.*?) (\S+:\d+.*|\(.*\))$)");
    static const std::regex summary(R"(^SUMMARY: (\w+): (.*)$)");
    std::vector<Finding> out;
    bool collecting = false;
    for (size_t start = 0; start < text.size() && out.size() < kMaxFindings;) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(start, std::min(end - start, kLineLimit));
        start = end + 1;
        // Every report line names its tool or starts with one of these; the rest is skipped
        // without a regex.
        std::smatch m;
        if (line.find("Sanitizer: ") != std::string::npos && std::regex_search(line, m, header)) {
            out.push_back({field(m[1]), field(m[2]), "", {}});
            collecting = true;
            continue;
        }
        if (line.find("runtime error: ") != std::string::npos && std::regex_search(line, m, ubsan)) {
            out.push_back({"UndefinedBehaviorSanitizer", "runtime error", field(m[2]) + " at " + field(m[1]), {}});
            collecting = false;
            continue;
        }
        if (out.empty()) continue;
        if (line.rfind("SUMMARY: ", 0) == 0 && std::regex_match(line, m, summary)) {
            if (out.back().summary.empty()) out.back().summary = field(m[2]);
            collecting = false;
            continue;
        }
        if (collecting && line.find('#') != std::string::npos && std::regex_match(line, m, frame)) {
            if (out.back().frames.size() < 3) out.back().frames.push_back(field(m[1]));
            continue;
        }
        if (collecting && line.empty() && !out.back().frames.empty()) collecting = false;  // end of first stack
    }
    return out;
}

}  // namespace hangar
