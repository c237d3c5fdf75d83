#include "html.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <string_view>

#include "markup.hpp"
#include "trace.hpp"

namespace hangar::reports {
namespace {

namespace fs = std::filesystem;

// ---- text ------------------------------------------------------------------------------

template <class... A>
std::string fmt(const char* format, A... args) {
    int n = std::snprintf(nullptr, 0, format, args...);
    if (n <= 0) return "";
    std::string out(static_cast<size_t>(n), '\0');
    std::snprintf(out.data(), out.size() + 1, format, args...);
    return out;
}

std::string ms_text(double ms) {
    if (ms < 1000) return fmt("%.0f ms", ms);
    if (ms < 10000) return fmt("%.2f s", ms / 1000);
    return fmt("%.1f s", ms / 1000);
}

// A path as an href: every byte but unreserved ones and '/' percent-encoded.
std::string href(const fs::path& p) {
    std::string out;
    for (unsigned char c : p.generic_string()) {
        if (std::isalnum(c) || c == '/' || c == '-' || c == '.' || c == '_' || c == '~')
            out += static_cast<char>(c);
        else
            out += fmt("%%%02X", c);
    }
    return out;
}

// `target` as seen from the report's folder; absolute where no relative path exists.
fs::path from_report(const fs::path& target, const fs::path& report_dir) {
    std::error_code ec;
    fs::path rel = report_dir.empty() ? fs::path() : fs::relative(target, report_dir, ec);
    if (!ec && !rel.empty()) return rel;
    fs::path abs = fs::absolute(target, ec);
    return ec ? target : abs;
}

// ---- cells -----------------------------------------------------------------------------

// CSS class and bar colour of each outcome, in the order of Outcome.
struct OutcomeStyle {
    const char *css, *colour;
};
constexpr OutcomeStyle kOutcomeStyles[] = {
    {"met", "#3f9a52"},
    {"missed", "#d0353a"},
    {"undecided", "#e0a526"},
    {"na", "#b8bec6"},
};
const char* mark_class(Outcome o) { return kOutcomeStyles[static_cast<int>(o)].css; }
std::string mark_label(Outcome o) { return std::string(label(o).shout); }
const char* mark_colour(Outcome o) { return kOutcomeStyles[static_cast<int>(o)].colour; }

// One scenario variant: its cells grouped by sanitizer, each in matrix order.
struct VariantGroup {
    std::string id;      // family/variant
    std::string anchor;  // html id
    std::vector<std::pair<Sanitizer, std::vector<const CellResult*>>> by_sanitizer;
};

std::vector<VariantGroup> group(const std::vector<const CellResult*>& cells) {
    std::vector<VariantGroup> groups;
    for (const CellResult* c : cells) {
        std::string id = c->cell.scenario_id();
        auto g = std::find_if(groups.begin(), groups.end(), [&](const VariantGroup& x) { return x.id == id; });
        if (g == groups.end()) {
            groups.push_back({id, "v" + std::to_string(groups.size() + 1), {}});
            g = groups.end() - 1;
        }
        auto s = std::find_if(g->by_sanitizer.begin(), g->by_sanitizer.end(),
                              [&](const auto& x) { return x.first == c->cell.sanitizer; });
        if (s == g->by_sanitizer.end()) {
            g->by_sanitizer.push_back({c->cell.sanitizer, {}});
            s = g->by_sanitizer.end() - 1;
        }
        s->second.push_back(c);
    }
    return groups;
}

// ---- charts ----------------------------------------------------------------------------

constexpr double kBarW = 132, kBarH = 18, kPad = 6;
double rate_x(double r) { return kPad + std::clamp(r, 0.0, 1.0) * (kBarW - 2 * kPad); }

std::string svg_open(double w, double h, const std::string& label, const char* cls) {
    return fmt("<svg class=\"%s\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"",
               cls, w, h, w, h) +
           escape_markup(label) + "\"><title>" + escape_markup(label) + "</title>";
}

std::string rate_axis() {
    std::string s = svg_open(kBarW, 16, "hang rate axis, 0 to 1", "axis");
    s += fmt("<text x=\"%.1f\" y=\"12\" text-anchor=\"start\">0</text>", rate_x(0) - 2);
    s += fmt("<text x=\"%.1f\" y=\"12\" text-anchor=\"middle\">0.5</text>", rate_x(0.5));
    s += fmt("<text x=\"%.1f\" y=\"12\" text-anchor=\"end\">1</text>", rate_x(1) + 2);
    return s + "</svg>";
}

// The hang rate of one cell as a bar, its 95% interval as a whisker and, for a hang-rate
// expectation, the floor as a dashed line.
std::string rate_bar(const CellResult& c, Outcome m) {
    const double rate = c.hang_rate();
    const Interval ci = c.hang_rate_ci95();
    std::string label = std::string(to_string(c.cell.method)) + ": ";
    if (m == Outcome::not_applicable)
        label += "not applicable";
    else
        label += fmt("hang rate %.2f, 95%% interval %.2f to %.2f, ", rate, ci.low, ci.high) + mark_label(m);
    std::string s = svg_open(kBarW, kBarH, label, "bar");
    s += fmt("<rect x=\"%.1f\" y=\"3\" width=\"%.1f\" height=\"12\" fill=\"%s\"/>", kPad, kBarW - 2 * kPad,
             m == Outcome::not_applicable ? "url(#hatch)" : "#eceff3");
    if (m == Outcome::not_applicable) return s + "</svg>";
    for (double g : {0.25, 0.5, 0.75})
        s += fmt("<line x1=\"%.1f\" x2=\"%.1f\" y1=\"3\" y2=\"15\" stroke=\"#fff\"/>", rate_x(g), rate_x(g));
    if (!c.runs.empty())
        s += fmt("<rect x=\"%.1f\" y=\"3\" width=\"%.1f\" height=\"12\" fill=\"%s\"/>", kPad, rate_x(rate) - kPad,
                 mark_colour(m));
    const Expectation& e = c.cell.expect;
    if (e.stochastic())
        s +=
            fmt("<line x1=\"%.1f\" x2=\"%.1f\" y1=\"0\" y2=\"18\" stroke=\"#333\" stroke-dasharray=\"2 2\">"
                "<title>expected floor %.2f</title></line>",
                rate_x(e.min_hang_rate), rate_x(e.min_hang_rate), e.min_hang_rate);
    if (!c.runs.empty()) {
        const double lo = rate_x(ci.low), hi = rate_x(ci.high);
        s += fmt(
            "<g stroke=\"#222\" stroke-width=\"1.4\"><line x1=\"%.1f\" x2=\"%.1f\" y1=\"9\" y2=\"9\"/>"
            "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"5\" y2=\"13\"/><line x1=\"%.1f\" x2=\"%.1f\" y1=\"5\" y2=\"13\"/></g>",
            lo, hi, lo, lo, hi, hi);
    }
    return s + "</svg>";
}

// A log scale in ms over whole decades, shared by every row of the timing chart.
struct LogAxis {
    double lo = 1, hi = 10, width = 460;
    double x(double ms) const {
        double v = std::clamp(ms, lo, hi);
        return kPad + (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) * (width - 2 * kPad);
    }
};

std::string decade_label(double ms) { return ms < 1000 ? fmt("%.0f ms", ms) : fmt("%.0f s", ms / 1000); }

std::string time_axis(const LogAxis& a) {
    std::string s = svg_open(
        a.width, 16, "time to verdict axis, logarithmic, " + decade_label(a.lo) + " to " + decade_label(a.hi), "axis");
    for (double d = a.lo; d <= a.hi * 1.001; d *= 10) {
        const char* anchor = d == a.lo ? "start" : d >= a.hi * 0.999 ? "end" : "middle";
        s += fmt("<text x=\"%.1f\" y=\"12\" text-anchor=\"%s\">", a.x(d), anchor) + decade_label(d) + "</text>";
    }
    return s + "</svg>";
}

std::string time_row(const CellResult& c, const LogAxis& a) {
    const auto t = c.times_to_verdict_ms();
    const double p50 = percentile(t, 0.5), p95 = percentile(t, 0.95), mx = percentile(t, 1);
    std::string s = svg_open(
        a.width, 20,
        c.cell.label() + ": time to verdict p50 " + ms_text(p50) + ", p95 " + ms_text(p95) + ", max " + ms_text(mx),
        "ttv");
    for (double d = a.lo; d <= a.hi * 1.001; d *= 10) {
        s += fmt("<line x1=\"%.1f\" x2=\"%.1f\" y1=\"0\" y2=\"20\" stroke=\"#e3e6ea\"/>", a.x(d), a.x(d));
        for (double k : {2.0, 5.0})
            if (d * k < a.hi)
                s += fmt("<line x1=\"%.1f\" x2=\"%.1f\" y1=\"6\" y2=\"14\" stroke=\"#eef0f2\"/>", a.x(d * k),
                         a.x(d * k));
    }
    for (double v : t)
        s += fmt("<circle cx=\"%.1f\" cy=\"10\" r=\"2\" fill=\"#5b6b7f\" fill-opacity=\"0.35\"/>", a.x(v));
    s += fmt("<line x1=\"%.1f\" x2=\"%.1f\" y1=\"10\" y2=\"10\" stroke=\"#5b6b7f\" stroke-width=\"1.4\"/>", a.x(p50),
             a.x(mx));
    s += fmt("<rect x=\"%.1f\" y=\"5\" width=\"%.1f\" height=\"10\" fill=\"#6c8ebf\" fill-opacity=\"0.55\"/>", a.x(p50),
             std::max(1.5, a.x(p95) - a.x(p50)));
    s += fmt("<line x1=\"%.1f\" x2=\"%.1f\" y1=\"3\" y2=\"17\" stroke=\"#222\" stroke-width=\"1.6\"/>", a.x(mx),
             a.x(mx));
    s += fmt("<circle cx=\"%.1f\" cy=\"10\" r=\"4\" fill=\"#1f4e8c\"/>", a.x(p50));
    return s + "</svg>";
}

// Hang rate across history entries, oldest first; a gap where the cell was not run.
std::string sparkline(const std::string& key, const std::vector<const HistoryCell*>& points,
                      const std::vector<HistoryEntry>& history) {
    constexpr double w = 200, h = 30, pad = 4;
    const size_t n = points.size();
    auto px = [&](size_t i) { return n <= 1 ? w / 2 : pad + static_cast<double>(i) * (w - 2 * pad) / (n - 1); };
    auto py = [&](double r) { return pad + (1 - std::clamp(r, 0.0, 1.0)) * (h - 2 * pad); };
    std::string s = svg_open(w, h, key + ": hang rate over " + std::to_string(n) + " runs, oldest to newest", "spark");
    s += fmt("<line x1=\"0\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e6ea\"/>", w, py(0), py(0));
    s += fmt("<line x1=\"0\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e6ea\"/>", w, py(1), py(1));
    std::string line;
    auto flush = [&] {
        if (line.find(' ') != std::string::npos)
            s += "<polyline fill=\"none\" stroke=\"#5b6b7f\" stroke-width=\"1.5\" points=\"" + line + "\"/>";
        line.clear();
    };
    for (size_t i = 0; i < n; ++i) {
        if (!points[i]) {
            flush();
            continue;
        }
        line += (line.empty() ? "" : " ") + fmt("%.1f,%.1f", px(i), py(points[i]->hang_rate));
    }
    flush();
    for (size_t i = 0; i < n; ++i) {
        if (!points[i]) continue;
        const HistoryCell& p = *points[i];
        s += fmt("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\"><title>", px(i), py(p.hang_rate),
                 i + 1 == n ? 3.5 : 2.2, mark_colour(p.met ? Outcome::met : Outcome::missed)) +
             escape_markup(history[i].started_at) + fmt(": hang rate %.2f (%d/%d), ", p.hang_rate, p.hangs, p.runs) +
             (p.met ? "met" : "not met") + "</title></circle>";
    }
    return s + "</svg>";
}

// ---- sections --------------------------------------------------------------------------

constexpr const char kStyle[] = R"(
:root{--ink:#1f2328;--muted:#5c6670;--line:#d8dee4;--panel:#f7f9fb;--met:#2c7a3c;--miss:#c62828;--und:#9a6700;--na:#7a828a}
*{box-sizing:border-box}
body{margin:0;background:#fff;color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1400px;margin:0 auto;padding:12px 24px 48px}
h1{font-size:22px;margin:8px 0 4px}
h2{font-size:18px;margin:32px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:15px;margin:18px 0 6px}
code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12.5px}
a{color:#0b57b5}
.muted,.note{color:var(--muted)}
.command{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:6px 10px;overflow-wrap:anywhere}
.totals{font-size:20px;font-weight:600;margin:10px 0;padding:8px 14px;border-radius:6px;border-left:6px solid var(--met);background:#eef7f0}
.totals.bad{border-left-color:var(--miss);background:#fdf0f0}
.totals .n{font-variant-numeric:tabular-nums}
.incomplete{color:#fff;background:var(--miss);padding:1px 8px;border-radius:4px;font-weight:600}
.complete{color:var(--met);font-weight:600}
nav a{margin-right:14px}
.badge{display:inline-block;min-width:52px;text-align:center;padding:0 6px;border-radius:4px;font-size:12px;font-weight:600;line-height:18px}
.badge.met{background:#dcefe0;color:var(--met)}
.badge.missed{background:var(--miss);color:#fff}
.badge.undecided{background:#fff1c7;color:var(--und)}
.badge.na{background:#eceff2;color:var(--na)}
span.met{color:var(--met)} span.missed{color:var(--miss)} span.undecided{color:var(--und)} span.na{color:var(--na)}
.panels{display:grid;grid-template-columns:repeat(auto-fill,minmax(400px,1fr));gap:12px}
.panels.cols-2{grid-template-columns:repeat(2,minmax(0,1fr))}
.panels.cols-3{grid-template-columns:repeat(3,minmax(0,1fr))}
@media (max-width:1260px){.panels.cols-2,.panels.cols-3{grid-template-columns:repeat(auto-fill,minmax(400px,1fr))}}
.panel{margin:0;border:1px solid var(--line);border-radius:6px;padding:6px 10px 8px;background:var(--panel);min-width:0}
.panel.has-miss{border-color:var(--miss);box-shadow:inset 3px 0 0 var(--miss)}
.panel figcaption{font-weight:600;margin-bottom:2px;overflow-wrap:anywhere}
.panel figcaption .san{font-weight:400;color:var(--muted);margin-left:6px}
table{border-collapse:collapse}
.bars{width:100%}
.bars th,.bars td{padding:1px 3px;vertical-align:middle;text-align:left}
.bars thead th{font-size:11px;font-weight:400;color:var(--muted)}
.bars tr.m th{font-weight:600;white-space:nowrap;width:76px}
.bars td.badge-cell{width:58px}
.bars .bar{width:140px}
.bars td.num{white-space:nowrap;font-variant-numeric:tabular-nums}
.bars td.num small{color:var(--muted);font-size:11px}
.bars tr.d td{font-size:12px;color:var(--muted);padding-bottom:5px}
.bars tr.na th,.bars tr.na td{color:var(--na)}
.why{color:var(--miss)} .why.undecided{color:var(--und)}
.panel .note{font-size:12px;margin:4px 0 0}
svg{display:block;overflow:visible}
svg text{font:11px system-ui,sans-serif;fill:#5c6670}
.legend{display:flex;flex-wrap:wrap;gap:16px;align-items:center;font-size:12.5px;color:var(--muted)}
.legend i{display:inline-block;width:14px;height:10px;margin-right:5px;vertical-align:-1px;border-radius:2px}
.data{width:100%;font-size:13px}
.data th,.data td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
.data thead th{background:var(--panel);font-weight:600;white-space:nowrap}
.data td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
details.evidence{margin:2px 0}
details.evidence summary{cursor:pointer;padding:3px 0}
details.evidence table{margin:2px 0 10px 18px;width:calc(100% - 18px)}
table.runs{table-layout:fixed}
table.runs td{overflow-wrap:anywhere}
table.runs col.k{width:44px} table.runs col.v{width:120px} table.runs col.t{width:130px}
table.runs col.sig{width:26%} table.runs col.sum{width:110px} table.runs col.rr{width:20%}
table.sigs{table-layout:fixed} table.sigs td{overflow-wrap:anywhere}
table.sigs col.c{width:28%} table.sigs col.s{width:40%}
.data ul{margin:0;padding-left:0;list-style:none}
.ttv-table td.chart,.ttv-table th.chart{width:480px}
.trend{display:grid;grid-template-columns:repeat(auto-fill,minmax(400px,1fr));gap:4px 16px}
.trend-item{display:grid;grid-template-columns:200px 1fr;grid-template-areas:"key key" "spark latest";column-gap:10px;
  border-bottom:1px solid var(--line);padding:3px 0 4px}
.trend-item .key{grid-area:key;font-size:12.5px;overflow-wrap:anywhere}
.trend-item svg{grid-area:spark}
.trend-item .latest{grid-area:latest;font-size:12.5px;line-height:1.3;font-variant-numeric:tabular-nums}
.kv th{width:220px}
pre.stack{margin:2px 0 8px;font-size:12px;white-space:pre-wrap;overflow-wrap:anywhere}
table.hazards{table-layout:fixed} table.hazards td{overflow-wrap:anywhere}
.kv td{overflow-wrap:anywhere}
footer{margin-top:40px;font-size:12px;color:var(--muted)}
)";

std::string header(const std::vector<const CellResult*>& cells, const Totals& totals, const RunContext& context) {
    size_t runs = 0;
    for (const CellResult* c : cells) runs += c->runs.size();
    const int missed = totals.missed;
    std::string s = "<header>\n<h1>hangar report</h1>\n";
    s += "<div class=\"command\"><code>" + escape_markup(context.command.empty() ? "(command not recorded)" : context.command) +
         "</code></div>\n<p>started <b>" + escape_markup(context.started_at.empty() ? "(unknown)" : context.started_at) +
         "</b> \xC2\xB7 " +
         (context.complete ? "<span class=\"complete\">complete</span>"
                           : "<span class=\"incomplete\">INCOMPLETE: interrupted or still running</span>") +
         " \xC2\xB7 " + std::to_string(cells.size()) + " cells, " + std::to_string(runs) + " runs</p>\n";
    s += std::string("<p class=\"totals") + (missed ? " bad" : "") + "\" id=\"totals\">" +
         fmt("<span class=\"met\"><span class=\"n\">%d</span> met</span> \xC2\xB7 "
             "<span class=\"missed\"><span class=\"n\">%d</span> missed</span> \xC2\xB7 "
             "<span class=\"undecided\"><span class=\"n\">%d</span> undecided</span> \xC2\xB7 "
             "<span class=\"na\"><span class=\"n\">%d</span> not applicable</span>",
             totals.met, missed, totals.undecided, totals.not_applicable) +
         "</p>\n";
    return s + "</header>\n";
}

std::string attention(const std::vector<const CellResult*>& cells, const std::vector<VariantGroup>& groups) {
    std::string items;
    for (const CellResult* c : cells) {
        Outcome m = c->outcome();
        if (m != Outcome::missed && m != Outcome::undecided) continue;
        std::string anchor;
        for (const auto& g : groups)
            if (g.id == c->cell.scenario_id()) anchor = g.anchor;
        items += std::string("<li><span class=\"badge ") + mark_class(m) + "\">" + mark_label(m) +
                 "</span> <a href=\"#" + anchor + "\">" + escape_markup(c->cell.label()) + "</a>: " + escape_markup(c->judgement.why) +
                 "</li>\n";
    }
    if (items.empty()) return "";
    return "<section id=\"attention\"><h2>Missed and undecided</h2>\n<ul>\n" + items + "</ul></section>\n";
}

std::string legend() {
    std::string s = "<div class=\"legend\">";
    for (Outcome m : {Outcome::met, Outcome::missed, Outcome::undecided})
        s += std::string("<span><i style=\"background:") + mark_colour(m) + "\"></i>hang rate, expectation " +
             mark_label(m) + "</span>";
    s += "<span><i style=\"background:#eceff3;border:1px dashed #9aa0a6\"></i>not applicable</span>"
         "<span>\xE2\x94\x9C\xE2\x94\x80\xE2\x94\xA4 95% Wilson interval</span>"
         "<span>\xE2\x94\x8A dashed: the expected hang-rate floor</span></div>\n";
    return s;
}

// One variant under one sanitizer: a bar per start method.
std::string panel(const std::string& variant, Sanitizer sanitizer, const std::vector<const CellResult*>& cells,
                  const std::string& anchor) {
    const bool miss = std::any_of(cells.begin(), cells.end(), [](auto* c) { return c->outcome() == Outcome::missed; });
    std::string s =
        std::string("<figure class=\"panel") + (miss ? " has-miss" : "") + "\"" +
        (anchor.empty() ? std::string() : " id=\"" + anchor + "\"") + "><figcaption>" + escape_markup(variant) +
        "<span class=\"san\">sanitizer: " + std::string(to_string(sanitizer)) +
        "</span></figcaption>\n<table class=\"bars\"><thead><tr><th>method</th><th></th><th class=\"bar\">" +
        rate_axis() + "</th><th>hang rate (95% CI)</th></tr></thead><tbody>\n";
    std::set<std::string> reasons;
    for (const CellResult* c : cells) {
        const Outcome m = c->outcome();
        s += std::string("<tr class=\"m ") + mark_class(m) + "\"><th scope=\"row\">" +
             escape_markup(std::string(to_string(c->cell.method))) + "</th><td class=\"badge-cell\"><span class=\"badge " +
             mark_class(m) + "\">" + mark_label(m) + "</span></td><td class=\"bar\">" + rate_bar(*c, m) +
             "</td><td class=\"num\">";
        if (m == Outcome::not_applicable) {
            s += "\xE2\x80\x94</td></tr>\n";
            reasons.insert(c->cell.not_applicable_reason);
            continue;
        }
        const Interval ci = c->hang_rate_ci95();
        s += fmt("%.2f <small>(%.2f\xE2\x80\x93%.2f)</small>", c->hang_rate(), ci.low, ci.high) + "</td></tr>\n";
        s += "<tr class=\"d\"><td></td><td colspan=\"3\">expect <code>" + escape_markup(c->cell.expect.text) +
             "</code> \xC2\xB7 seen " + escape_markup(c->summary());
        if (c->hazards_checked())
            s += fmt(" \xC2\xB7 fork hazard in %d/%zu runs", c->hazard_runs(), c->runs.size());
        if (const std::string starts = child_starts_text(*c); !starts.empty())
            s += " \xC2\xB7 children: " + escape_markup(starts);
        for (const std::string& note : {method_mismatch(*c), reimport_sentence(*c)})
            if (!note.empty()) s += "<br><span class=\"why\">" + escape_markup(note) + "</span>";
        if ((m == Outcome::missed || m == Outcome::undecided) && !c->judgement.why.empty())
            s += std::string("<br><span class=\"why ") + mark_class(m) + "\">" + escape_markup(c->judgement.why) + "</span>";
        s += "</td></tr>\n";
    }
    s += "</tbody></table>\n";
    for (const auto& r : reasons) s += "<p class=\"note\">not applicable: " + escape_markup(r) + "</p>\n";
    const std::string& note = cells.front()->cell.sanitizer_note;
    if (!note.empty()) s += "<p class=\"note\">" + escape_markup(note) + "</p>\n";
    return s + "</figure>\n";
}

// Panels by family; when the run has several sanitizers, one row per variant with a column
// per sanitizer, so that the same sanitizer lines up down the page.
std::string comparison(const std::vector<VariantGroup>& groups) {
    std::vector<Sanitizer> sanitizers;
    for (const auto& g : groups)
        for (const auto& entry : g.by_sanitizer)
            if (std::find(sanitizers.begin(), sanitizers.end(), entry.first) == sanitizers.end())
                sanitizers.push_back(entry.first);
    const bool columns = sanitizers.size() > 1 && sanitizers.size() <= 3;
    std::string s =
        "<section id=\"methods\"><h2>Start methods compared</h2>\n"
        "<p class=\"muted\">Per scenario variant and sanitizer: each start method's hang rate "
        "(deadlock or timeout) over its runs, judged against the manifest's expectation.</p>\n" +
        legend();
    std::string family;
    for (const auto& g : groups) {
        std::string f = g.id.substr(0, g.id.find('/'));
        if (f != family) {
            if (!family.empty()) s += "</div>\n";
            family = f;
            s += "<h3>" + escape_markup(family) + "</h3>\n<div class=\"panels" +
                 (columns ? " cols-" + std::to_string(sanitizers.size()) : std::string()) + "\">\n";
        }
        const std::string variant = g.id.substr(g.id.find('/') + 1);
        std::string anchor = g.anchor;
        if (columns) {
            for (const auto& sanitizer : sanitizers) {
                auto it = std::find_if(g.by_sanitizer.begin(), g.by_sanitizer.end(),
                                       [&](const auto& x) { return x.first == sanitizer; });
                s += it == g.by_sanitizer.end() ? "<div></div>\n" : panel(variant, sanitizer, it->second, anchor);
                anchor.clear();
            }
        } else {
            for (const auto& [sanitizer, cells] : g.by_sanitizer) {
                s += panel(variant, sanitizer, cells, anchor);
                anchor.clear();
            }
        }
    }
    if (!family.empty()) s += "</div>\n";
    return s + "</section>\n";
}

std::string timing(const std::vector<const CellResult*>& cells) {
    std::vector<const CellResult*> timed;
    double lo = 1e300, hi = 0;
    for (const CellResult* c : cells) {
        auto t = c->times_to_verdict_ms();
        if (t.empty()) continue;
        timed.push_back(c);
        for (double v : t) lo = std::min(lo, v), hi = std::max(hi, v);
    }
    std::string s = "<section id=\"timing\"><h2>Time to verdict</h2>\n";
    if (timed.empty()) return s + "<p class=\"muted\">No run hung.</p></section>\n";
    LogAxis a;
    a.lo = std::pow(10, std::floor(std::log10(std::max(1.0, lo))));
    a.hi = std::pow(10, std::ceil(std::log10(std::max(1.0, hi))));
    if (a.hi <= a.lo) a.hi = a.lo * 10;
    s += "<p class=\"muted\">For each hang: from when the tree stopped progressing (deadlock) or from the start "
         "(timeout) to the verdict. Logarithmic axis; dots are runs, the box spans p50 to p95, the bar marks the "
         "maximum.</p>\n<table class=\"data ttv-table\"><thead><tr><th>cell</th><th class=\"chart\">" +
         time_axis(a) + "</th><th>p50</th><th>p95</th><th>max</th><th>hangs</th></tr></thead><tbody>\n";
    for (const CellResult* c : timed) {
        auto t = c->times_to_verdict_ms();
        s += "<tr><td>" + escape_markup(c->cell.label()) + "</td><td class=\"chart\">" + time_row(*c, a) +
             "</td><td class=\"num\">" + ms_text(percentile(t, 0.5)) + "</td><td class=\"num\">" +
             ms_text(percentile(t, 0.95)) + "</td><td class=\"num\">" + ms_text(percentile(t, 1)) +
             "</td><td class=\"num\">" + std::to_string(t.size()) + "</td></tr>\n";
    }
    return s + "</tbody></table></section>\n";
}

std::string signatures(const std::vector<const CellResult*>& cells, const std::vector<VariantGroup>& groups) {
    std::string s = "<section id=\"signatures\"><h2>Hang signatures and sanitizer findings</h2>\n";
    std::string rows;
    for (const CellResult* c : cells) {
        auto sigs = c->signatures();
        auto found = c->finding_counts();
        if (sigs.empty() && found.empty()) continue;
        rows += "<tr><td>" + escape_markup(c->cell.label()) + "</td><td><ul>";
        for (const auto& [sig, n] : sigs)
            rows += fmt("<li><b>%d</b> \xC3\x97 ", n) +
                    (sig.empty() ? std::string("<i class=\"muted\">no stack readable</i>")
                                 : "<code>" + escape_markup(sig) + "</code>") +
                    "</li>";
        rows += "</ul></td><td><ul>";
        for (const auto& [what, n] : found) rows += fmt("<li><b>%d</b> \xC3\x97 ", n) + escape_markup(what) + "</li>";
        rows += "</ul></td></tr>\n";
    }
    if (rows.empty())
        s += "<p class=\"muted\">No hang signatures and no sanitizer reports.</p>\n";
    else
        s += "<table class=\"data sigs\"><colgroup><col class=\"c\"><col class=\"s\"><col></colgroup>"
             "<thead><tr><th>cell</th><th>where the hung thread waits (runs \xC3\x97 signature)</th>"
             "<th>sanitizer reports (reports \xC3\x97 summary)</th></tr></thead><tbody>\n" +
             rows + "</tbody></table>\n";
    std::string notes;
    for (const auto& g : groups)
        for (const auto& [sanitizer, cs] : g.by_sanitizer) {
            const std::string& note = cs.front()->cell.sanitizer_note;
            if (!note.empty())
                notes += "<tr><td>" + escape_markup(g.id) + "</td><td>" + std::string(to_string(sanitizer)) + "</td><td>" +
                         escape_markup(note) + "</td></tr>\n";
        }
    if (!notes.empty())
        s += "<h3>Sanitizer notes</h3>\n<table class=\"data\"><thead><tr><th>variant</th><th>sanitizer</th>"
             "<th>why its expectation differs</th></tr></thead><tbody>\n" +
             notes + "</tbody></table>\n";
    return s + "</section>\n";
}

std::string environment(const nlohmann::json& env) {
    std::string s = "<section id=\"environment\"><h2>Environment</h2>\n";
    if (!env.is_object() || env.empty()) {
        if (env.is_null() || env.empty()) return s + "<p class=\"muted\">Not recorded.</p></section>\n";
        return s + "<pre>" + escape_markup(json_text(env)) + "</pre></section>\n";
    }
    s += "<table class=\"data kv\"><tbody>\n";
    for (const auto& [key, value] : env.items())
        s += "<tr><th>" + escape_markup(key) + "</th><td class=\"mono\">" +
             escape_markup(value.is_string() ? value.get<std::string>() : json_text(value, -1)) + "</td></tr>\n";
    return s + "</tbody></table></section>\n";
}

// A link to `target` from the report; `text` shown instead of the path when given.
std::string link(const fs::path& target, const fs::path& report_dir, bool folder, const char* text = nullptr) {
    std::string path = from_report(target, report_dir).generic_string();
    if (folder && !path.empty() && path.back() != '/') path += '/';
    return "<a href=\"" + href(path) + "\">" + escape_markup(text ? text : path) + "</a>";
}

// Each hazard's two sides: where the forked child waited, and what the parent's thread was
// doing while it held the lock (its Python and native stacks at the fork).
std::string hazards(const std::vector<const CellResult*>& cells, const fs::path& report_dir) {
    std::string rows;
    for (const CellResult* c : cells) {
        if (!c->hazards_checked() || c->hazard_runs() == 0) continue;
        const RunRecord* run = nullptr;
        for (const auto& r : c->runs)
            if (!run && r.hazards && !r.hazards->shown.empty()) run = &r;
        if (!run) continue;
        const ForkHazard& f = run->hazards->shown.front();
        std::string held_text;
        for (const auto& h : f.held) {
            held_text += "<p><b>" + escape_markup(h.signature) + "</b>: thread " + std::to_string(h.holder_tid) + " <code>" +
                         escape_markup(h.holder) + "</code>" + (h.child_waited ? ", and the child then waited for it" : "") +
                         "</p>";
            std::string stack;
            for (const auto& line : h.python) stack += escape_markup(line) + "\n";
            for (size_t i = 0; i < h.native.size() && i < 8; ++i) stack += escape_markup(h.native[i]) + "\n";
            if (!h.stack_note.empty()) stack += escape_markup("(" + h.stack_note + ")") + "\n";
            if (!stack.empty()) held_text += "<pre class=\"stack\">" + stack + "</pre>";
        }
        std::string child = is_hang(run->verdict)
                                ? "hung (" + std::string(to_string(run->verdict)) + ") in <code>" +
                                      escape_markup(run->signature.empty() ? "(no stack)" : run->signature) + "</code>"
                                : "ran on (" + std::string(to_string(run->verdict)) + ")";
        rows += "<tr><td>" + escape_markup(c->cell.label()) + fmt("<br><small>%d/%zu runs</small>", c->hazard_runs(), c->runs.size()) +
                "</td><td>fork in pid " + std::to_string(f.parent) + " (thread <code>" + escape_markup(f.thread) +
                "</code>); the child " + std::to_string(f.child) + " " + child + " <a href=\"" +
                href(from_report(run->evidence, report_dir)) + "/\">evidence</a></td><td>" + held_text +
                "</td></tr>\n";
    }
    if (rows.empty()) return "";
    return "<section id=\"hazards\"><h2>Fork hazards</h2>\n<p class=\"muted\">A fork while another thread held a "
           "lock (or was inside a glibc call that holds one), seen by the preload detector in the run, hang or not. "
           "Each row: one run's fork, where its child went, and what the other thread was doing.</p>\n"
           "<table class=\"data hazards\"><thead><tr><th>cell</th><th>the child</th><th>held at the fork, by"
           "</th></tr></thead><tbody>\n" +
           rows + "</tbody></table></section>\n";
}

std::string evidence_row(const RunRecord& r, size_t number, const fs::path& report_dir) {
    std::string detail;
    if (r.exit_code) detail = fmt("exit %d", *r.exit_code);
    if (r.signal) detail = fmt("signal %d", *r.signal);
    std::string row =
        fmt("<tr><td class=\"num\">%zu</td><td>", number) + std::string(to_string(r.verdict)) +
        (detail.empty() ? "" : " <span class=\"muted\">(" + detail + ")</span>") + "</td><td class=\"num\">" +
        (r.time_to_verdict_ms ? ms_text(static_cast<double>(*r.time_to_verdict_ms)) : "\xE2\x80\x94") + "</td><td>";
    if (is_hang(r.verdict))
        row +=
            r.signature.empty() ? "<i class=\"muted\">no stack readable</i>" : "<code>" + escape_markup(r.signature) + "</code>";
    row += "</td><td class=\"mono\">";
    if (!r.evidence.empty()) row += link(r.evidence, report_dir, true);
    row += "</td><td class=\"mono\">";
    std::error_code ec;
    const fs::path summary = r.evidence / "evidence" / "summary.txt";
    if (!r.evidence.empty() && fs::exists(summary, ec)) row += link(summary, report_dir, false, "summary.txt");
    row += "</td><td>" + escape_markup(r.rr_note);
    if (!r.rr_trace.empty()) row += (r.rr_note.empty() ? "" : "<br>") + link(r.rr_trace, report_dir, true);
    return row + "</td></tr>\n";
}

// One folding block per cell with hung or failed runs; open where the cell missed or has
// few such runs, so a long matrix stays scannable.
std::string evidence(const std::vector<const CellResult*>& cells, const fs::path& report_dir) {
    std::string s = "<section id=\"evidence\"><h2>Evidence of hung and failed runs</h2>\n";
    bool any = false;
    for (const CellResult* c : cells) {
        std::string rows;
        std::map<Verdict, int> shown;
        for (size_t i = 0; i < c->runs.size(); ++i) {
            const RunRecord& r = c->runs[i];
            if (r.verdict == Verdict::pass) continue;
            ++shown[r.verdict];
            rows += evidence_row(r, i + 1, report_dir);
        }
        if (rows.empty()) continue;
        any = true;
        std::string what;
        int n = 0;
        for (auto [v, k] : shown)
            what += (what.empty() ? "" : ", ") + std::string(to_string(v)) + fmt(" %d", k), n += k;
        const Outcome m = c->outcome();
        s += std::string("<details class=\"evidence\"") + (m == Outcome::missed || n <= 3 ? " open" : "") +
             "><summary><b>" + escape_markup(c->cell.label()) + "</b> <span class=\"muted\">" + what + " of " +
             std::to_string(c->runs.size()) + " runs</span> <span class=\"badge " + mark_class(m) + "\">" +
             mark_label(m) +
             "</span></summary>\n<table class=\"data runs\"><colgroup><col class=\"k\"><col class=\"v\"><col "
             "class=\"t\">"
             "<col class=\"sig\"><col><col class=\"sum\"><col class=\"rr\"></colgroup><thead><tr><th>run</th>"
             "<th>verdict</th><th>time to verdict</th><th>signature</th><th>run folder</th><th>evidence</th>"
             "<th>rr</th></tr></thead><tbody>\n" +
             rows + "</tbody></table></details>\n";
    }
    if (!any) s += "<p class=\"muted\">No run hung or failed.</p>\n";
    return s + "</section>\n";
}

std::string trend(const std::vector<const CellResult*>& cells, const std::vector<HistoryEntry>& history) {
    if (history.empty()) return "";
    std::vector<std::string> keys;  // this run's cells first, in matrix order, then the rest as first seen
    std::set<std::string> listed;
    auto add = [&](const std::string& k) {
        if (listed.insert(k).second) keys.push_back(k);
    };
    for (const CellResult* c : cells)
        if (c->cell.applicable()) add(c->cell.key());
    std::vector<std::map<std::string, const HistoryCell*>> by_key(history.size());
    for (size_t i = 0; i < history.size(); ++i)
        for (const auto& hc : history[i].cells) {
            add(hc.key);
            by_key[i][hc.key] = &hc;
        }
    std::string s = "<section id=\"trend\"><h2>Trend</h2>\n<p class=\"muted\">Hang rate per cell across the " +
                    std::to_string(history.size()) + " runs of the history, oldest to newest, from " +
                    escape_markup(history.front().started_at) + " to " + escape_markup(history.back().started_at) +
                    ". Green points met their expectation, red did not; a gap is a run without the cell.</p>\n"
                    "<div class=\"trend\">\n";
    for (const auto& key : keys) {
        std::vector<const HistoryCell*> points;
        const HistoryCell* latest = nullptr;
        int seen = 0;
        for (const auto& entry : by_key) {
            auto it = entry.find(key);
            points.push_back(it == entry.end() ? nullptr : it->second);
            if (points.back()) latest = points.back(), ++seen;
        }
        if (!latest) continue;
        s += "<div class=\"trend-item\"><div class=\"key\">" + escape_markup(key) + "</div>" + sparkline(key, points, history) +
             "<div class=\"latest\">" + fmt("<b>%.2f</b> (%d/%d) ", latest->hang_rate, latest->hangs, latest->runs) +
             (latest->met ? "<span class=\"met\">met</span>" : "<span class=\"missed\">not met</span>") +
             fmt("<br><span class=\"muted\">in %d of %zu</span>", seen, history.size()) + "</div></div>\n";
    }
    return s + "</div></section>\n";
}

}  // namespace

std::string render_html(const std::vector<CellResult>& cell_results, const RunContext& context,
                        const std::filesystem::path& report_dir, const std::vector<HistoryEntry>& history) {
    std::vector<const CellResult*> cells;
    for (const auto& c : cell_results) cells.push_back(&c);
    std::stable_sort(cells.begin(), cells.end(), [](auto* a, auto* b) { return a->cell.order < b->cell.order; });
    const auto groups = group(cells);

    std::string s =
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<title>hangar report " +
        escape_markup(context.started_at) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
    // The hatching of not-applicable bars, defined once for every chart.
    s += "<svg width=\"0\" height=\"0\" style=\"position:absolute\" aria-hidden=\"true\"><defs>"
         "<pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
         "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#f1f3f5\"/>"
         "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#cfd4da\" stroke-width=\"2\"/></pattern></defs></svg>\n";
    s += "<main>\n" + header(cells, tally(cell_results), context);
    s += "<nav><a href=\"#methods\">start methods</a><a href=\"#timing\">time to verdict</a>"
         "<a href=\"#signatures\">signatures</a>" +
         std::string(history.empty() ? "" : "<a href=\"#trend\">trend</a>") + "<a href=\"#evidence\">evidence</a>" +
         "<a href=\"#environment\">environment</a></nav>\n";
    s += attention(cells, groups);
    s += comparison(groups);
    s += timing(cells);
    s += signatures(cells, groups);
    s += hazards(cells, report_dir);
    s += trend(cells, history);
    s += evidence(cells, report_dir);
    s += environment(context.environment);
    s += "<footer>Written by hangar from results schema " + std::string(kResultsSchema) +
         ". Hang = deadlock (proven from outside) or timeout.</footer>\n</main>\n</body>\n</html>\n";
    return s;
}

}  // namespace hangar::reports
