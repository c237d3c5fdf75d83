#include "report_set.hpp"

#include "hangar/atomic_file.hpp"
#include "html.hpp"
#include "junit.hpp"
#include "markdown.hpp"

namespace hangar::reports {

Status write_reports(const std::filesystem::path& dir, const std::vector<CellResult>& cells, const RunContext& context,
                     const std::vector<HistoryEntry>& history) {
    const std::pair<const char*, std::string> files[] = {
        {"junit.xml", render_junit(cells, context)},
        {"summary.md", render_markdown(cells, context)},
        {"report.html", render_html(cells, context, dir, history)},
    };
    for (const auto& [name, text] : files)
        if (auto s = write_file_atomically(dir / name, text); !s) return s;
    return {};
}

}  // namespace hangar::reports
