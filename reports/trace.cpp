#include "trace.hpp"

#include <algorithm>
#include <map>

namespace hangar::reports {
namespace {

std::string file_name(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::string reimport_sentence(const CellResult& cell) {
    const RunRecord* best = nullptr;  // the run whose children re-ran the most
    for (const auto& r : cell.runs)
        if (r.python && r.python->reimporting_children > 0 &&
            (!best || r.python->reimporting_children > best->python->reimporting_children))
            best = &r;
    if (!best) return "";
    const auto& lines = best->python->reimported;
    const std::string file = lines.front().file;
    int first = lines.front().line, last = first;
    const RunEvents::Line* action = nullptr;
    for (const auto& l : lines) {
        if (l.file != file) continue;
        first = std::min(first, l.line);
        last = std::max(last, l.line);
        if (!action && l.action) action = &l;
    }
    const int children = best->python->reimporting_children;
    std::string text = "under " + std::string(to_string(cell.cell.method)) + ", line" +
                       (first == last ? " " + std::to_string(first) : "s " + std::to_string(first) + "-" + std::to_string(last)) +
                       " of " + file_name(file) + " ran again in " + std::to_string(children) +
                       (children == 1 ? " child" : " children");
    if (action) text += ": line " + std::to_string(action->line) + " `" + action->source + "`";
    return text;
}

std::string child_starts_text(const CellResult& cell) {
    std::map<std::string, int> total;
    for (const auto& r : cell.runs)
        if (r.python)
            for (const auto& [method, n] : r.python->child_starts) total[method] += n;
    std::string out;
    for (const auto& [method, n] : total) out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + method;
    return out;
}

std::string method_mismatch(const CellResult& cell) {
    if (cell.cell.method == Method::none) return "";
    const std::string asked(to_string(cell.cell.method));
    std::map<std::string, int> other;
    for (const auto& r : cell.runs)
        if (r.python)
            for (const auto& [method, n] : r.python->child_starts)
                if (method != asked) other[method] += n;
    if (other.empty()) return "";
    std::string out;
    for (const auto& [method, n] : other)
        out += (out.empty() ? "" : ", ") + std::to_string(n) + (n == 1 ? " child was" : " children were") +
               " started with " + method;
    return "asked " + asked + ", but " + out;
}

}  // namespace hangar::reports
