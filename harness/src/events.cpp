#include "hangar/events.hpp"

#include <algorithm>
#include <map>
#include <tuple>
#include <nlohmann/json.hpp>
#include <sstream>

#include "hangar/process.hpp"
#include "hangar/signature.hpp"
#include "hangar/text.hpp"
#include "hangar/text_file.hpp"
#include "hangar/watchdog.hpp"

namespace hangar {
namespace {

using nlohmann::json;

// Everything in the file is the program's data: bounded, one printable line each.
std::string str(const json& j, const char* key, size_t max = 512) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? one_line(it->get<std::string>(), max) : std::string();
}

long num(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_number_integer() ? it->get<long>() : 0;
}

std::vector<std::string> strings(const json& j, const char* key, size_t max_items) {
    std::vector<std::string> out;
    auto it = j.find(key);
    if (it == j.end() || !it->is_array()) return out;
    for (const auto& s : *it) {
        if (out.size() >= max_items) break;
        if (s.is_string()) out.push_back(one_line(s.get<std::string>(), 300));
    }
    return out;
}

// A thread's Python stack from a py_stacks record, innermost first.
struct PyThread {
    std::vector<PythonFrame> frames;
    std::vector<std::string> text;
};

PyThread python_thread(const json& t) {
    PyThread out;
    auto frames = t.find("frames");
    if (frames == t.end() || !frames->is_array()) return out;
    for (const auto& f : *frames) {
        if (out.frames.size() >= 40) break;
        PythonFrame frame{str(f, "file", 300), static_cast<int>(num(f, "line")), str(f, "function", 100)};
        std::string source = str(f, "source", 200);
        out.text.push_back(frame.file + ":" + std::to_string(frame.line) + " in " + frame.function +
                           (source.empty() ? "" : ": " + source));
        out.frames.push_back(std::move(frame));
    }
    return out;
}

// The stacks taken just after a fork, in the parent: by the Python hook (py_stacks: every
// thread's Python stack) and by the preload library (fork_stacks: the holders' native stacks),
// each with the forking pid and tid and the time, so each fork finds its own.
struct StacksAfter {
    uint64_t ns = 0;
    std::map<long, PyThread> python;              // py_stacks: tid -> stack
    std::map<long, json> native;                  // fork_stacks: holder tid -> holder record
};
using Stacks = std::map<std::pair<long, long>, std::vector<StacksAfter>>;

// The stacks of (pid, tid) taken first at or after `ns` (ns 0: a record from before the
// time was written, the first one), or null.
const StacksAfter* after(const Stacks& stacks, long pid, long tid, uint64_t ns, bool python) {
    auto it = stacks.find({pid, tid});
    if (it == stacks.end()) return nullptr;
    const StacksAfter* best = nullptr;
    for (const auto& s : it->second) {
        if ((python ? s.python.empty() : s.native.empty()) || (ns && s.ns < ns)) continue;
        if (!best || s.ns < best->ns) best = &s;
    }
    return best;
}

HeldAtFork held_from(const json& h, const std::map<long, PyThread>* python, const std::map<long, json>* native) {
    HeldAtFork held;
    held.kind = str(h, "kind", 40);
    held.addr = str(h, "addr", 40);
    held.call = str(h, "call", 80);
    held.lock = str(h, "lock", 200);
    held.holder_tid = num(h, "holder_tid");
    held.holder = str(h, "holder", 64);
    held.acquired_at = str(h, "acquired_at", 300);
    held.native = strings(h, "stack", 24);
    held.stack_note = str(h, "stack_note", 300);
    if (native)
        if (auto n = native->find(held.holder_tid); n != native->end()) {
            held.native = strings(n->second, "stack", 24);
            held.stack_note = str(n->second, "stack_note", 300);
            if (n->second.value("still_held", true) == false && held.stack_note.empty())
                held.stack_note = "the stack is from just after the fork, when the thread no longer held it";
        }
    if (python)
        if (auto t = python->find(held.holder_tid); t != python->end()) held.python = t->second.text;
    held.signature = hazard_signature(held);
    if (held.signature.empty() || !python) return held;
    // The signature reads best with the Python frame that held it, where there is one.
    if (auto t = python->find(held.holder_tid); t != python->end()) {
        const std::string where = python_signature(t->second.frames);
        if (!where.empty()) held.signature = (held.kind == "libc_call" ? "inside " + held.call : "held lock") + " in " + where;
    }
    return held;
}

bool same_lock(const HeldAtFork& held, const json& wait) {
    return held.holder_tid == num(wait, "holder_tid") &&
           (held.kind == "libc_call" ? held.call == str(wait, "call", 80) : held.addr == str(wait, "addr", 40));
}

}  // namespace

std::string hazard_signature(const HeldAtFork& held) {
    if (held.kind == "libc_call") return held.call.empty() ? "inside a glibc call" : "inside " + held.call;
    std::string what = held.kind == "sem"                   ? "held lock"
                       : held.kind == "pthread_mutex"       ? "held mutex"
                       : held.kind == "pthread_rwlock_read" ? "held rwlock (read)"
                       : held.kind == "pthread_rwlock_write" ? "held rwlock (write)"
                                                             : "held " + held.kind;
    // Where it was taken: the first frame that names a function, else the module.
    std::string where = held.acquired_at.empty() ? "" : symbolised_frame_name(held.acquired_at);
    return where.empty() ? what : what + " in " + where;
}

void name_frames(std::vector<ForkHazard>& forks, const std::filesystem::path& scratch) {
    // module -> offsets to name, then offset -> name
    std::map<std::string, std::map<std::string, std::string>> wanted;
    auto unnamed = [](const std::string& frame, std::string& module, std::string& offset) {
        if (frame.empty() || frame[0] != '/' || frame.find('(') != std::string::npos) return false;
        const auto plus = frame.rfind("+0x");
        if (plus == std::string::npos) return false;
        module = frame.substr(0, plus);
        offset = frame.substr(plus + 1);
        return true;
    };
    auto each_frame = [&](auto&& fn) {
        for (auto& fork : forks)
            for (auto& held : fork.held) {
                fn(held.acquired_at);
                for (size_t i = 0; i < held.native.size() && i < 12; ++i) fn(held.native[i]);
            }
    };
    each_frame([&](std::string& frame) {
        std::string module, offset;
        if (unnamed(frame, module, offset)) wanted[module][offset];
    });
    if (wanted.empty()) return;
    auto tool = find_program("eu-addr2line");
    if (!tool) return;
    for (auto& [module, offsets] : wanted) {
        std::vector<std::string> argv{tool->string(), "-f", "-i", "-C", "--pretty-print", "-e", module};
        for (const auto& [offset, name] : offsets) argv.push_back(offset);
        auto run = run_helper(argv, scratch, std::chrono::seconds(2));
        if (!run || run->ending.kind != Ending::Kind::exited || run->ending.code != 0) continue;
        // --pretty-print: per address "F at FILE:LINE:COL", then " (inlined by) G at ..." for
        // each function it was inlined into. The frame is named by the first of them that
        // is neither lock plumbing nor a system header's template (std::mutex::lock inlined
        // into lock_guard inlined into the program's log()): "log at logger_mutex.cpp:24".
        std::vector<std::vector<std::string>> groups;  // one per address, innermost function first
        std::istringstream out(run->out);
        for (std::string line; std::getline(out, line);) {
            const bool inlined = line.rfind(" (inlined by) ", 0) == 0;
            if (!inlined) groups.emplace_back();
            if (!groups.empty()) groups.back().push_back(inlined ? line.substr(14) : line);
        }
        auto offset = offsets.begin();
        for (const auto& group : groups) {
            if (offset == offsets.end()) break;
            std::string& name = (offset++)->second;
            for (const auto& entry : group) {
                const auto at = entry.rfind(" at ");
                const std::string function = entry.substr(0, at);
                std::string file = at == std::string::npos ? "" : entry.substr(at + 4);
                if (function == "??" || function.empty()) continue;
                if (auto col = file.find(':', file.find(':') + 1); col != std::string::npos) file.erase(col);
                std::string plain = symbolised_frame_name("m(" + function + ")");
                if (plain == "operator") plain = "lambda";  // a lambda's operator()
                const std::string base = file.substr(file.rfind('/') == std::string::npos ? 0 : file.rfind('/') + 1);
                if (name.empty()) name = one_line(plain, 200);  // at least the innermost
                if (is_lock_plumbing(plain) || file.rfind("/usr/include/", 0) == 0) continue;
                name = one_line(plain + (base.empty() || base[0] == '?' ? "" : " at " + base), 200);
                break;
            }
        }
    }
    each_frame([&](std::string& frame) {
        std::string module, offset;
        if (!unnamed(frame, module, offset)) return;
        const std::string& name = wanted[module][offset];
        if (!name.empty()) frame = module + "(" + name + ")+" + offset;
    });
    for (auto& fork : forks)
        for (auto& held : fork.held)
            if (held.python.empty() || held.kind != "sem") held.signature = hazard_signature(held);
}

RunEvents read_events(const std::filesystem::path& file, size_t limit) {
    RunEvents events;
    const std::string text = read_text(file, limit);
    Stacks stacks;
    std::vector<json> fork_records, waits;
    std::map<std::pair<std::string, int>, size_t> line_index;
    std::map<std::pair<std::string, int>, std::vector<long>> line_pids;
    std::vector<long> reimporting;
    for (size_t start = 0; start < text.size();) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) {  // cut by the limit mid-record
            ++events.skipped;
            break;
        }
        const json j = json::parse(text.begin() + static_cast<long>(start), text.begin() + static_cast<long>(end),
                                   nullptr, false);
        start = end + 1;
        if (!j.is_object()) {
            ++events.skipped;
            continue;
        }
        const std::string event = str(j, "event", 40);
        const long pid = num(j, "pid");
        if (event == "forkwatch_loaded") {
            events.forkwatch_pids.push_back(pid);
        } else if (event == "hazards_unavailable") {
            events.unavailable.push_back("pid " + std::to_string(pid) + ": " + str(j, "why"));
        } else if (event == "py_stacks" || event == "fork_stacks") {
            StacksAfter after;
            after.ns = static_cast<uint64_t>(std::max(0L, num(j, "ns")));
            if (auto t = j.find(event == "py_stacks" ? "threads" : "holders"); t != j.end() && t->is_array())
                for (const auto& thread : *t) {
                    if (!thread.is_object()) continue;
                    if (event == "py_stacks") after.python[num(thread, "tid")] = python_thread(thread);
                    else after.native[num(thread, "holder_tid")] = thread;
                }
            auto& list = stacks[{pid, num(j, "tid")}];
            if (list.size() < 4 * kMaxForks) list.push_back(std::move(after));
        } else if (event == "fork") {
            ++events.hazard_forks;
            if (fork_records.size() < kMaxForks) fork_records.push_back(j);
        } else if (event == "inherited_wait") {
            if (waits.size() < 16 * kMaxForks) waits.push_back(j);
        } else if (event == "hook_loaded") {
            events.hook_pids.push_back(pid);
        } else if (event == "main_run") {
            if (str(j, "as", 20) == "__main__") ++events.main_runs;
        } else if (event == "child_start") {
            std::string method = str(j, "method", 40);
            ++events.child_starts[method.empty() ? "unknown" : method];
        } else if (event == "reimport_line") {
            const std::pair key{str(j, "file", 300), static_cast<int>(num(j, "line"))};
            const bool action = j.value("action", false) == true;
            if (!line_index.count(key)) {
                line_index[key] = events.reimported.size();
                events.reimported.push_back({key.first, key.second, str(j, "source", 200), 0, action});
            }
            auto& pids = line_pids[key];
            if (std::find(pids.begin(), pids.end(), pid) == pids.end()) pids.push_back(pid);
            events.reimported[line_index[key]].processes = static_cast<int>(pids.size());
            if (action && std::find(reimporting.begin(), reimporting.end(), pid) == reimporting.end())
                reimporting.push_back(pid);
        } else if (event == "hook_error") {
            if (events.hook_errors.size() < 10) events.hook_errors.push_back(str(j, "where", 100) + ": " + str(j, "error"));
        }
    }
    // Each fork with the stacks its parent took just after it, and what its child waited on.
    for (const auto& j : fork_records) {
        ForkHazard fork{num(j, "parent"), num(j, "tid"), num(j, "pid"), str(j, "thread", 64), {}};
        const uint64_t ns = static_cast<uint64_t>(std::max(0L, num(j, "ns")));
        const StacksAfter* python = after(stacks, fork.parent, fork.tid, ns, true);
        const StacksAfter* native = after(stacks, fork.parent, fork.tid, ns, false);
        // The native stacks belong to this very fork: the same time to the nanosecond.
        if (native && native->ns != ns) native = nullptr;
        if (auto h = j.find("hazards"); h != j.end() && h->is_array())
            for (const auto& held : *h)
                if (held.is_object() && fork.held.size() < 32)
                    fork.held.push_back(held_from(held, python ? &python->python : nullptr,
                                                  native ? &native->native : nullptr));
        for (const auto& w : waits)
            if (num(w, "pid") == fork.child)
                for (auto& held : fork.held)
                    if (same_lock(held, w)) held.child_waited = true;
        events.forks.push_back(std::move(fork));
    }
    events.reimporting_children = static_cast<int>(reimporting.size());
    std::sort(events.reimported.begin(), events.reimported.end(),
              [](const RunEvents::Line& a, const RunEvents::Line& b) { return std::tie(a.file, a.line) < std::tie(b.file, b.line); });
    return events;
}

}  // namespace hangar
