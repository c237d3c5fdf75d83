#include "hangar/findings.hpp"

#include <regex>
#include <sstream>

namespace hangar {

std::vector<Finding> parse_findings(const std::string& text) {
    static const std::regex header(R"((?:WARNING|ERROR): (ThreadSanitizer|AddressSanitizer|LeakSanitizer): ([^(]*?)(?: \(pid=\d+\)| on .*)?$)");
    static const std::regex ubsan(R"(^(.*?:\d+:\d+): runtime error: (.*)$)");
    static const std::regex frame(R"(^\s+#\d+ (?:0x[0-9a-f]+ in )?(.*?) (\S+:\d+.*|\(.*\))$)");
    static const std::regex summary(R"(^SUMMARY: (\w+): (.*)$)");
    std::vector<Finding> out;
    std::istringstream in(text);
    std::string line;
    bool collecting = false;
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_search(line, m, header)) {
            out.push_back({m[1], m[2], "", {}});
            collecting = true;
            continue;
        }
        if (std::regex_search(line, m, ubsan)) {
            out.push_back({"UndefinedBehaviorSanitizer", "runtime error", std::string(m[2]) + " at " + std::string(m[1]), {}});
            collecting = false;
            continue;
        }
        if (out.empty()) continue;
        if (std::regex_match(line, m, summary)) {
            if (out.back().summary.empty()) out.back().summary = m[2];
            collecting = false;
            continue;
        }
        if (collecting && std::regex_match(line, m, frame)) {
            if (out.back().frames.size() < 3) out.back().frames.push_back(m[1]);
            continue;
        }
        if (collecting && line.empty() && !out.back().frames.empty()) collecting = false;  // end of first stack
    }
    return out;
}

}  // namespace hangar
