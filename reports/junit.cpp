#include "junit.hpp"

#include <cstdio>
#include <map>

#include "markup.hpp"

namespace hangar::reports {

namespace {

std::string seconds(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", s);
    return buf;
}

std::string testcase(const CellResult& c) {
    const std::string classname = c.cell.family + "." + c.cell.variant, name = c.cell.column();
    double time = 0;
    for (const auto& r : c.runs) time += r.seconds;
    std::string out = "    <testcase classname=\"" + escape_markup(classname) + "\" name=\"" + escape_markup(name) +
                      "\" time=\"" + seconds(time) + "\">\n";
    if (c.hazards_checked()) {
        auto property = [](const std::string& name, const std::string& value) {
            return "        <property name=\"" + escape_markup(name) + "\" value=\"" + escape_markup(value) + "\"/>\n";
        };
        out += "      <properties>\n" + property("hang_runs", std::to_string(c.hangs())) +
               property("hazard_runs", std::to_string(c.hazard_runs())) + property("runs", std::to_string(c.runs.size()));
        for (const auto& [sig, n] : c.hazard_signatures()) out += property("hazard", sig + " x" + std::to_string(n));
        out += "      </properties>\n";
    }
    switch (c.outcome()) {
        case Outcome::met: break;
        case Outcome::not_applicable:
            out += "      <skipped message=\"" + escape_markup(c.cell.not_applicable_reason) + "\"/>\n";
            break;
        case Outcome::undecided:
            out += "      <failure type=\"undecided\" message=\"" + escape_markup(c.judgement.why) + "\"/>\n";
            break;
        case Outcome::missed:
            out += "      <failure type=\"" + escape_markup(std::string(to_string(c.judgement.miss))) + "\" message=\"" +
                   escape_markup(c.judgement.why) + "\"/>\n";
    }
    std::string text = "expect: " + c.cell.expect.text + "\nobserved: " + c.summary() + "\n";
    for (auto [sig, n] : c.signatures()) text += "signature: " + (sig.empty() ? "(no stack)" : sig) + " x" + std::to_string(n) + "\n";
    for (auto [what, n] : c.finding_counts()) text += "sanitizer: " + what + " x" + std::to_string(n) + "\n";
    for (const auto& [sig, n] : c.hazard_signatures()) text += "fork hazard: " + sig + " x" + std::to_string(n) + "\n";
    if (!c.cell.sanitizer_note.empty()) text += "note: " + c.cell.sanitizer_note + "\n";
    for (const auto& r : c.runs)
        if (r.verdict != Verdict::pass) text += std::string(to_string(r.verdict)) + ": " + r.evidence.string() + "\n";
    out += "      <system-out>" + escape_markup(text) + "</system-out>\n";
    return out + "    </testcase>\n";
}

}  // namespace

std::string render_junit(const std::vector<CellResult>& cells, const RunContext& context) {
    std::map<std::string, std::vector<const CellResult*>> suites;  // family -> cells, in order
    std::vector<std::string> order;
    for (const auto& c : cells) {
        if (!suites.count(c.cell.family)) order.push_back(c.cell.family);
        suites[c.cell.family].push_back(&c);
    }
    struct Counts {
        int tests = 0, failures = 0, skipped = 0;
        double time = 0;
    };
    auto count = [](const std::vector<const CellResult*>& list) {
        Counts k;
        for (const auto* c : list) {
            ++k.tests;
            k.skipped += c->outcome() == Outcome::not_applicable;
            k.failures += c->outcome() == Outcome::missed || c->outcome() == Outcome::undecided;
            for (const auto& r : c->runs) k.time += r.seconds;
        }
        return k;
    };
    std::vector<const CellResult*> all;
    for (const auto& c : cells) all.push_back(&c);
    Counts total = count(all);
    // JUnit's timestamp is an ISO 8601 date-time without a zone; ours are UTC.
    std::string timestamp = context.started_at;
    if (!timestamp.empty() && timestamp.back() == 'Z') timestamp.pop_back();
    std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out += "<testsuites name=\"hangar\" tests=\"" + std::to_string(total.tests) + "\" failures=\"" +
           std::to_string(total.failures) + "\" disabled=\"" + std::to_string(total.skipped) + "\" errors=\"0\" time=\"" +
           seconds(total.time) + "\">\n";
    for (const auto& family : order) {
        Counts k = count(suites[family]);
        out += "  <testsuite name=\"" + escape_markup(family) + "\" tests=\"" + std::to_string(k.tests) +
               "\" failures=\"" + std::to_string(k.failures) + "\" errors=\"0\" skipped=\"" +
               std::to_string(k.skipped) + "\" time=\"" + seconds(k.time) + "\" timestamp=\"" +
               escape_markup(timestamp) + "\">\n";
        for (const auto* c : suites[family]) out += testcase(*c);
        out += "  </testsuite>\n";
    }
    return out + "</testsuites>\n";
}

}  // namespace hangar::reports
