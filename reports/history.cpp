#include "history.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace hangar::reports {

Status append_history(const std::filesystem::path& file, const std::vector<CellResult>& cells,
                      const RunContext& context) {
    nlohmann::json line = {{"started_at", context.started_at}, {"command", context.command}};
    line["cells"] = nlohmann::json::array();
    for (const auto& c : cells) {
        if (!c.cell.applicable()) continue;
        Interval ci = c.hang_rate_ci95();
        line["cells"].push_back({{"key", c.cell.key()},
                                 {"runs", c.runs.size()},
                                 {"hangs", c.hangs()},
                                 {"hang_rate", c.hang_rate()},
                                 {"hang_rate_ci95", {ci.low, ci.high}},
                                 {"met", c.outcome() == Outcome::met}});
    }
    std::string text = json_text(line, -1) + "\n";
    int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return io_error("cannot append to history " + file.string() + ": " + std::strerror(errno));
    ssize_t n = write(fd, text.data(), text.size());
    int e = errno;
    close(fd);
    if (n != static_cast<ssize_t>(text.size()))
        return io_error("cannot append to history " + file.string() + ": " + std::strerror(e));
    return {};
}

Result<std::vector<HistoryEntry>> read_history(const std::filesystem::path& file) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) return error("history " + file.string() + " is not a regular file");
    std::ifstream in(file);
    if (!in) return error("cannot read history " + file.string());
    std::vector<HistoryEntry> entries;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        if (line.empty()) continue;
        try {
            auto j = nlohmann::json::parse(line);
            HistoryEntry e{j.at("started_at"), j.at("command"), {}};
            for (const auto& c : j.at("cells"))
                e.cells.push_back({c.at("key"), c.at("runs"), c.at("hangs"), c.at("hang_rate"),
                                   Interval{c.at("hang_rate_ci95")[0], c.at("hang_rate_ci95")[1]}, c.at("met")});
            entries.push_back(std::move(e));
        } catch (const nlohmann::json::exception& e) {
            return error(file.string() + ":" + std::to_string(number) + ": not a history line (" + e.what() + ")");
        }
    }
    return entries;
}

}  // namespace hangar::reports
