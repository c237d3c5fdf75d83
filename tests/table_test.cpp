#include "table.hpp"

#include <gtest/gtest.h>

namespace hangar::reports {
namespace {

Expectation expect(const char* text) {
    auto e = parse_expectation(text);
    EXPECT_TRUE(e.ok()) << text;
    return e.ok() ? *e : Expectation{};
}

RunRecord run_with(Verdict v) {
    RunRecord r;
    r.verdict = v;
    r.evidence = "/nowhere";
    return r;
}

// The terminal table: one short cell per method; what a stochastic cell was judged on (its
// interval and floor) in a numbered line below, which the cell points to.
TEST(Table, AStochasticCellPointsToItsIntervalBelow) {
    Family family;
    family.name = "nss-lock";
    Variant v;
    v.name = "getaddrinfo";
    v.language = Language::native;
    v.methods = {Method::fork, Method::spawn};
    v.expect = {{Method::fork, expect("hang-rate >= 0.15")}, {Method::spawn, expect("pass")}};
    family.variants = {v};
    std::vector<CellResult> cells;
    int order = 0;
    for (Method m : {Method::fork, Method::spawn}) {
        CellResult c{make_cell(family, family.variants[0], m, Sanitizer::none, 20), {}, {}};
        c.cell.order = order++;
        for (int k = 0; k < 20; ++k)
            c.runs.push_back(run_with(m == Method::fork && k < 11 ? Verdict::deadlock : Verdict::pass));
        judge_cell(c);
        cells.push_back(std::move(c));
    }
    std::string table = render_table(cells);
    EXPECT_NE(table.find("pass 9/20, deadlock 11/20 [1] met"), std::string::npos) << table;
    EXPECT_NE(table.find("pass 20/20 met"), std::string::npos) << table;
    EXPECT_NE(table.find("[1] nss-lock/getaddrinfo fork: hang rate 0.55 (95% CI 0.34-0.74), floor 0.15\n"),
              std::string::npos)
        << table;
    EXPECT_NE(table.find("2 cells met, 0 missed"), std::string::npos) << table;
}

}  // namespace
}  // namespace hangar::reports
