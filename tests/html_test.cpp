#include "html.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace hangar::reports {
namespace {

namespace fs = std::filesystem;

Expectation expect(const char* text) {
    auto e = parse_expectation(text);
    EXPECT_TRUE(e.ok()) << text;
    return e.ok() ? *e : Expectation{};
}

size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

// Two variants, each under fork, spawn and forkserver (the python one also under tsan, not
// applicable): the forked native cell meets "hang", the forked python cell misses it.
class HtmlReport : public ::testing::Test {
protected:
    void SetUp() override {
        dir = fs::temp_directory_path() / ("hangar-html-test-" + std::to_string(getpid()));
        fs::remove_all(dir);
        report_dir = dir / "out" / "run";
        fs::create_directories(report_dir);

        family.name = "lock<&>family";
        Variant native;
        native.name = "native-lock";
        native.language = Language::native;
        native.methods = {Method::fork, Method::spawn, Method::forkserver};
        native.expect = {
            {Method::fork, expect("hang")}, {Method::spawn, expect("pass")}, {Method::forkserver, expect("pass")}};
        Variant python = native;
        python.name = "python-lock";
        python.language = Language::python;
        family.variants = {native, python};

        int order = 0;
        for (const Variant& v : family.variants)
            for (Method m : kScenarioMethods)
                for (Sanitizer sanitizer : {Sanitizer::none, Sanitizer::tsan}) {
                    if (sanitizer == Sanitizer::tsan && v.language == Language::native) continue;
                    CellResult c{make_cell(family, v, m, sanitizer, 2), {}, {}};
                    c.cell.order = order++;
                    if (c.cell.applicable())
                        for (int k = 0; k < 2; ++k) c.runs.push_back(run(c.cell, k));
                    judge_cell(c);
                    cells.push_back(std::move(c));
                }
        context.started_at = "2026-11-25T03:15:59Z";
        context.command = "hangar run lock<&>family";
        context.environment = {{"glibc", "2.36"}, {"cpus", 2}};
    }
    void TearDown() override { fs::remove_all(dir); }

    // The native forked runs hang (one with its evidence summary written); everything else
    // passes, so the forked python cell misses its expected hang.
    RunRecord run(const Cell& cell, int k) {
        RunRecord r;
        r.evidence = report_dir / cell.folder() / ("run-" + std::to_string(k + 1));
        if (cell.method == Method::fork && cell.language() == Language::native) {
            r.verdict = k == 0 ? Verdict::deadlock : Verdict::timeout;
            r.time_to_verdict_ms = k == 0 ? 161 : 60000;
            r.signature = k == 0 ? "getaddrinfo > __check_pf" : "";
            r.rr_note = "rr: not recorded <no perf>";
            if (k == 0) {
                fs::create_directories(r.evidence / "evidence");
                std::ofstream(r.evidence / "evidence" / "summary.txt") << "signature\n";
            }
        } else {
            r.exit_code = 0;
        }
        return r;
    }

    std::string render(const std::vector<HistoryEntry>& history = {}) {
        return render_html(cells, context, report_dir, history);
    }

    fs::path dir, report_dir;
    Family family;
    std::vector<CellResult> cells;
    RunContext context;
};

TEST_F(HtmlReport, IsOneSelfContainedDocument) {
    const std::string html = render();
    EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
    EXPECT_EQ(count(html, "<html"), 1u);
    EXPECT_EQ(count(html, "</html>"), 1u);
    EXPECT_EQ(html.substr(html.size() - 8), "</html>\n");
    for (const char* outside : {"<script", "<link", "http://", "https://", "@import", "url(http", "src="})
        EXPECT_EQ(html.find(outside), std::string::npos) << outside;
    EXPECT_NE(html.find("<svg"), std::string::npos);
    EXPECT_EQ(count(html, "<svg"), count(html, "</svg>"));
}

TEST_F(HtmlReport, ShowsEveryVariantMethodAndTotals) {
    const std::string html = render();
    for (const char* v : {"native-lock", "python-lock"}) EXPECT_NE(html.find(v), std::string::npos) << v;
    for (const char* m : {">fork<", ">spawn<", ">forkserver<"}) EXPECT_NE(html.find(m), std::string::npos) << m;
    // 6 applicable cells: native fork/spawn/forkserver met, python fork missed, python
    // spawn/forkserver met; python under tsan not applicable, with the reason.
    EXPECT_NE(html.find("<span class=\"n\">5</span> met"), std::string::npos);
    EXPECT_NE(html.find("<span class=\"n\">1</span> missed"), std::string::npos);
    EXPECT_NE(html.find("<span class=\"n\">0</span> undecided"), std::string::npos);
    EXPECT_NE(html.find("<span class=\"n\">3</span> not applicable"), std::string::npos);
    EXPECT_NE(html.find("id=\"totals\""), std::string::npos);
    EXPECT_NE(html.find(">MISSED<"), std::string::npos);
    EXPECT_NE(html.find(">met<"), std::string::npos);
    EXPECT_NE(html.find(">n/a<"), std::string::npos);
    EXPECT_NE(html.find("not built with tsan"), std::string::npos);
    EXPECT_NE(html.find("expected"), std::string::npos);  // the miss's why
    EXPECT_NE(html.find("id=\"attention\""), std::string::npos);
    EXPECT_NE(html.find("<code>hang</code>"), std::string::npos);          // the expectation text
    EXPECT_NE(html.find("timeout 1/2, deadlock 1/2"), std::string::npos);  // the verdict counts
    EXPECT_NE(html.find("<th>glibc</th><td class=\"mono\">2.36</td>"), std::string::npos);
    EXPECT_NE(html.find("<th>cpus</th><td class=\"mono\">2</td>"), std::string::npos);
}

TEST_F(HtmlReport, LinksEvidenceRelativeToTheReport) {
    const std::string html = render();
    const std::string run1 = "lock%3C%26%3Efamily/native-lock/fork/run-1/";
    EXPECT_NE(html.find("href=\"" + run1 + "\""), std::string::npos) << html;
    EXPECT_NE(html.find("href=\"" + run1 + "evidence/summary.txt\""), std::string::npos);
    // run-2 has no summary.txt: its folder is linked, its summary is not.
    EXPECT_NE(html.find("href=\"lock%3C%26%3Efamily/native-lock/fork/run-2/\""), std::string::npos);
    EXPECT_EQ(html.find("run-2/evidence/summary.txt"), std::string::npos);
    EXPECT_EQ(html.find("href=\"" + report_dir.string()), std::string::npos);
    EXPECT_NE(html.find("<code>getaddrinfo &gt; __check_pf</code>"), std::string::npos);
    EXPECT_NE(html.find("161 ms"), std::string::npos);
    EXPECT_NE(html.find("rr: not recorded &lt;no perf&gt;"), std::string::npos);
    EXPECT_NE(html.find("id=\"timing\""), std::string::npos);
    EXPECT_NE(html.find("no stack readable"), std::string::npos);
}

TEST_F(HtmlReport, EvidenceOutsideTheReportDirStillLinks) {
    const std::string html = render_html(cells, context, "", {});
    EXPECT_NE(html.find("href=\"" + (report_dir / "lock%3C%26%3Efamily").string()), std::string::npos);
}

TEST_F(HtmlReport, EscapesEveryStringFromTheData) {
    context.environment["<key>"] = "a<b>&\"c\"";
    const std::string html = render();
    EXPECT_EQ(html.find("lock<&>family"), std::string::npos);
    EXPECT_NE(html.find("lock&lt;&amp;&gt;family"), std::string::npos);
    EXPECT_NE(html.find("hangar run lock&lt;&amp;&gt;family"), std::string::npos);
    EXPECT_NE(html.find("<th>&lt;key&gt;</th><td class=\"mono\">a&lt;b&gt;&amp;&quot;c&quot;</td>"), std::string::npos);
    EXPECT_EQ(html.find("<key>"), std::string::npos);
}

TEST_F(HtmlReport, SaysWhenTheRunIsIncomplete) {
    EXPECT_EQ(render().find("INCOMPLETE"), std::string::npos);
    context.complete = false;
    EXPECT_NE(render().find("INCOMPLETE"), std::string::npos);
}

TEST_F(HtmlReport, RendersNoCellsAsAnEmptyReport) {
    const std::string html = render_html({}, context, report_dir, {});
    EXPECT_NE(html.find("<span class=\"n\">0</span> met"), std::string::npos);
    EXPECT_NE(html.find("No run hung or failed."), std::string::npos);
    EXPECT_EQ(html.substr(html.size() - 8), "</html>\n");
}

TEST_F(HtmlReport, DrawsATrendFromHistory) {
    EXPECT_EQ(render().find("id=\"trend\""), std::string::npos);
    const std::string key = cells[0].cell.key();  // lock<&>family/native-lock:fork
    std::vector<HistoryEntry> history = {
        {"2026-11-23T03:00:00Z", "hangar run", {{key, 10, 3, 0.3, wilson95(3, 10), true}}},
        {"2026-11-24T03:00:00Z",
         "hangar run",
         {{key, 10, 8, 0.8, wilson95(8, 10), true}, {"other/x:spawn", 4, 0, 0, wilson95(0, 4), true}}},
    };
    const std::string html = render(history);
    ASSERT_NE(html.find("id=\"trend\""), std::string::npos);
    const std::string escaped = "lock&lt;&amp;&gt;family/native-lock:fork";
    const size_t row = html.find("<div class=\"key\">" + escaped + "</div>");
    ASSERT_NE(row, std::string::npos);
    const size_t spark = html.find("class=\"spark\"", row);
    ASSERT_NE(spark, std::string::npos);
    const size_t end = html.find("<div class=\"trend-item\">", row);
    EXPECT_LT(spark, end);
    const std::string line = html.substr(row, end - row);
    EXPECT_NE(line.find("<polyline"), std::string::npos);  // two points joined
    EXPECT_EQ(count(line, "<circle"), 2u);
    EXPECT_NE(line.find("<b>0.80</b> (8/10)"), std::string::npos);                      // the latest value
    EXPECT_NE(html.find("<div class=\"key\">other/x:spawn</div>"), std::string::npos);  // only in history, still shown
}

}  // namespace
}  // namespace hangar::reports
