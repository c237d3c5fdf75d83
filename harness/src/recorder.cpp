#include "hangar/recorder.hpp"

#include <cstdlib>
#include <sstream>

#include "hangar/process.hpp"
#include "hangar/watchdog.hpp"

namespace hangar {
namespace {

// rr's messages start "[FATAL ./src/File.cc:306:function()] what went wrong".
std::string first_reason(const std::string& text) {
    std::istringstream in(text);
    std::string line, first;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        if (line[0] == '[') {
            auto close = line.find("] ");
            if (close != std::string::npos) line = line.substr(close + 2);
        }
        if (auto see = line.find(" See http"); see != std::string::npos) line.erase(see);
        return line;
    }
    return "";
}

}  // namespace

std::vector<std::string> Recorder::wrap(const std::vector<std::string>& argv,
                                        const std::filesystem::path& trace_dir) const {
    std::vector<std::string> out{rr.string(), "record"};
    if (chaos) out.push_back("--chaos");
    out.insert(out.end(), {"--output-trace-dir", trace_dir.string()});
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
}

std::string Recorder::replay_command(const std::filesystem::path& trace_dir) const {
    return rr.string() + " replay " + trace_dir.string();
}

Recorder probe_recorder(const std::filesystem::path& scratch, bool chaos) {
    Recorder r;
    r.chaos = chaos;
    const char* override = std::getenv("HANGAR_RR");
    auto rr = find_program(override && *override ? override : "rr");
    if (!rr) {
        r.reason = "rr is not installed (Debian package rr)";
        return r;
    }
    r.rr = *rr;
    std::error_code ec;
    std::filesystem::create_directories(scratch, ec);
    auto truth = find_program("true");
    auto probe = run_helper(r.wrap({truth ? truth->string() : "/bin/true"}, scratch / "trace"), scratch,
                            std::chrono::seconds(20));
    if (!probe) {
        r.reason = probe.error().message;
    } else if (probe->ending.kind == Ending::Kind::exited && probe->ending.code == 0) {
        r.available = true;
    } else {
        r.reason = first_reason(probe->err);
        if (r.reason.empty()) r.reason = "rr record /bin/true did not succeed";
    }
    std::filesystem::remove_all(scratch, ec);
    return r;
}

}  // namespace hangar
