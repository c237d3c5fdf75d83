#include "hangar/signature.hpp"

#include <cxxabi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <regex>
#include <sstream>

namespace hangar {
namespace {

// What of a frame's name (or a faulthandler line) the regexes below see: real names are
// shorter, and std::regex recurses per character.
constexpr size_t kNameLimit = 1024;

// Argument lists make signatures long and differ between builds; keep the name. The
// list is the last balanced "(...)" at the end: templates may hold parentheses too.
std::string without_arguments(std::string s) {
    if (s.empty() || s.back() != ')') return s;
    int depth = 0;
    for (size_t i = s.size(); i-- > 0;) {
        if (s[i] == ')') ++depth;
        else if (s[i] == '(' && --depth == 0) {
            if (i > 0) s.erase(i);
            break;
        }
    }
    return s;
}

std::string demangle(const std::string& name) {
    if (name.rfind("_Z", 0) != 0) return without_arguments(name);
    int status = 0;
    std::unique_ptr<char, decltype(&std::free)> out(abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status),
                                                    &std::free);
    if (status != 0 || !out) return name;
    return without_arguments(out.get());
}

// glibc's internal aliases name the public function: __GI_getaddrinfo is getaddrinfo.
std::string plain_name(std::string name) {
    if (auto at = name.find('@'); at != std::string::npos) name.erase(at);
    for (const char* prefix : {"__GI___", "__GI_", "__libc_"})
        if (name.rfind(prefix, 0) == 0 && name.size() > std::string(prefix).size()) {
            name.erase(0, std::string(prefix).size());
            break;
        }
    if (auto dot = name.find(".constprop"); dot != std::string::npos) name.erase(dot);
    if (auto dot = name.find(".isra"); dot != std::string::npos) name.erase(dot);
    return demangle(name);
}

bool is_plumbing(const std::string& f) {
    static const std::regex plumbing(
        "^(_*futex.*|.*lll_lock.*|_*lll_.*|_*pthread_mutex_(timed|clock)?lock.*|_*pthread_cond_.*wait.*|.*sem_wait.*|"
        "do_futex_wait.*|_*new_sem_wait.*|PyThread_acquire_lock.*|PyCOND_.*|std::mutex::lock|"
        "std::unique_lock<.*>::lock|std::lock_guard<.*>::lock_guard|std::unique_lock<.*>::unique_lock|"
        "__gthread_mutex_lock|syscall|__syscall_cancel.*|__internal_syscall_cancel|std::_Function_handler<.*|"
        "std::function<.*>::operator\\(\\))$");
    return std::regex_match(f, plumbing);
}

}  // namespace

bool is_lock_plumbing(const std::string& function) { return is_plumbing(function); }

std::string symbolised_frame_name(const std::string& frame) {
    const auto open = frame.find('(');
    const std::string module = frame.substr(0, open);
    const std::string file = module.substr(module.rfind('/') == std::string::npos ? 0 : module.rfind('/') + 1);
    if (open == std::string::npos) return file;
    std::string inside = frame.substr(open + 1, frame.rfind(')') == std::string::npos ? std::string::npos
                                                                                      : frame.rfind(')') - open - 1);
    const auto plus = inside.rfind('+');
    std::string symbol = plus == std::string::npos ? inside : inside.substr(0, plus);
    if (symbol.empty()) return file + (plus == std::string::npos ? "" : inside.substr(plus));
    if (symbol.size() > kNameLimit) symbol.resize(kNameLimit);
    return plain_name(symbol);
}

ModuleBases module_bases(const std::string& proc_maps) {
    ModuleBases bases;
    std::istringstream in(proc_maps);
    std::string line;
    while (std::getline(in, line)) {
        // "7f..-7f.. r--p 00000000 fe:00 21627    /usr/lib/x86_64-linux-gnu/libgomp.so.1.0.0"
        unsigned long long start = 0, end = 0, offset = 0;
        char perms[8] = {};
        int path_at = 0;
        if (std::sscanf(line.c_str(), "%llx-%llx %7s %llx %*s %*s %n", &start, &end, perms, &offset, &path_at) < 4 ||
            path_at <= 0 || static_cast<size_t>(path_at) >= line.size() || line[static_cast<size_t>(path_at)] != '/')
            continue;
        const std::string path = line.substr(static_cast<size_t>(path_at));
        const uint64_t base = start - offset;
        auto [it, fresh] = bases.emplace(path, base);
        if (!fresh && base < it->second) it->second = base;
    }
    return bases;
}

std::vector<std::string> native_frames(const std::string& text, pid_t tid, const ModuleBases* bases) {
    std::vector<std::string> frames;
    std::istringstream in(text);
    std::string line;
    bool in_thread = false, seen_thread = false;
    std::string last_unnamed_module;  // a run of unnamed frames in one module is kept once
    const std::string want = "TID " + std::to_string(tid) + ":";
    while (std::getline(in, line)) {
        if (line.rfind("TID ", 0) == 0) {
            if (seen_thread && in_thread) break;
            in_thread = tid == 0 ? !seen_thread : line == want;
            seen_thread = true;
            continue;
        }
        if (!in_thread || line.empty() || line[0] != '#') continue;
        // "#3  0x000056367b9ec590 name, possibly with spaces (and arguments)", and with -m
        // " - /path/to/module" after it; an unnamed frame is "#0  0x00007fe2b212764e - /path".
        auto address = line.find("0x");
        auto name_at = address == std::string::npos ? address : line.find(' ', address);
        if (name_at == std::string::npos) continue;
        const uint64_t pc = std::strtoull(line.c_str() + address, nullptr, 16);
        std::string name = line.substr(name_at + 1);
        std::string module;
        if (auto dash = name.rfind(" - "); dash != std::string::npos && dash + 3 < name.size() &&
                                            (name[dash + 3] == '/' || name[dash + 3] == '[')) {
            module = name.substr(dash + 3);
            name.erase(dash);
        } else if (name.rfind("- /", 0) == 0 || name.rfind("- [", 0) == 0) {
            module = name.substr(2);
            name.clear();
        }
        while (!name.empty() && name.front() == ' ') name.erase(0, 1);
        if (name.rfind("- ", 0) == 0) name.erase(0, 2);  // eu-stack -i marks inlined frames
        if (name.empty()) {
            if (module.empty() || module == last_unnamed_module) continue;
            last_unnamed_module = module;
            std::string shown = module.substr(module.rfind('/') + 1);
            if (shown.size() > kNameLimit) shown.resize(kNameLimit);
            if (bases)
                if (auto it = bases->find(module); it != bases->end() && pc >= it->second) {
                    char off[32];
                    std::snprintf(off, sizeof off, "+0x%llx", static_cast<unsigned long long>(pc - it->second));
                    shown += off;
                }
            frames.push_back(shown);
            continue;
        }
        last_unnamed_module.clear();
        // Symbol names come from the program; the regexes that read them recurse per character.
        if (name.size() > kNameLimit) name.resize(kNameLimit);
        frames.push_back(plain_name(name));
    }
    return frames;
}

std::string native_signature(const std::vector<std::string>& frames) {
    // Sanitizer interceptors wrap the real call anywhere in the stack: skip them too.
    static const std::regex runtime("^(_*interceptor_.*|__tsan.*|__asan.*|__sanitizer.*|__ubsan.*)$");
    static const std::regex startup("^(_start|_*libc_start_.*|start_call_main|start_main.*)$");
    std::vector<std::string> meaningful;
    for (size_t i = 0; i < frames.size() && meaningful.size() < 2; ++i)
        if (!is_plumbing(frames[i]) && !std::regex_match(frames[i], runtime)) meaningful.push_back(frames[i]);
    if (meaningful.empty()) return "";
    // Only main and the C start-up frames say nothing of where it waits: name the library
    // call main made instead (the innermost frame's caller chain ends in it).
    bool only_main = true;
    for (const auto& f : meaningful) only_main &= f == "main" || std::regex_match(f, startup);
    if (only_main) {
        auto main_at = std::find(frames.begin(), frames.end(), "main");
        if (main_at != frames.begin() && main_at != frames.end()) {
            std::string callee = *(main_at - 1);
            while (callee.size() > 1 && callee.front() == '_') callee.erase(0, 1);
            return "main > " + callee;
        }
    }
    if (meaningful.size() == 1) return meaningful[0];
    return meaningful[1] + " > " + meaningful[0];
}

std::vector<PythonThreadStack> python_thread_stacks(const std::string& text) {
    std::vector<PythonThreadStack> stacks;
    std::istringstream in(text);
    std::string line;
    static const std::regex frame_re(R"re(^\s+File "(.*)", line (\d{1,9}) in (.*)$)re");
    while (std::getline(in, line)) {
        if (line.find("(most recent call first):") != std::string::npos) {
            PythonThreadStack s;
            s.current = line.rfind("Current thread", 0) == 0;
            if (auto at = line.find("0x"); at != std::string::npos) s.thread = std::strtoull(line.c_str() + at, nullptr, 16);
            stacks.push_back(std::move(s));
            continue;
        }
        if (line.size() > kNameLimit) line.resize(kNameLimit);
        std::smatch m;
        if (!stacks.empty() && std::regex_match(line, m, frame_re))
            stacks.back().frames.push_back({m[1], std::stoi(m[2]), m[3]});
    }
    return stacks;
}

std::vector<std::vector<PythonFrame>> python_stacks(const std::string& text) {
    std::vector<std::vector<PythonFrame>> stacks;
    size_t current_index = 0;
    for (auto& s : python_thread_stacks(text)) {
        if (s.current) current_index = stacks.size();
        stacks.push_back(std::move(s.frames));
    }
    if (current_index > 0) std::rotate(stacks.begin(), stacks.begin() + static_cast<long>(current_index),
                                       stacks.begin() + static_cast<long>(current_index) + 1);
    return stacks;
}

std::string python_signature(const std::vector<PythonFrame>& frames) {
    for (const auto& f : frames) {
        std::string file = f.file;
        static const std::regex stdlib(R"(.*/python3\.\d+/(.*))");
        std::smatch m;
        if (std::regex_match(file, m, stdlib)) file = m[1];
        else if (auto slash = file.rfind('/'); slash != std::string::npos) file = file.substr(slash + 1);
        // threading's own waits say only that something waits; the caller says what.
        if (file == "threading.py" && (f.function == "wait" || f.function == "acquire" || f.function == "join" ||
                                       f.function == "_wait_for_tstate_lock"))
            continue;
        return file + ":" + f.function;
    }
    return "";
}

}  // namespace hangar
