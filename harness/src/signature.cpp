#include "hangar/signature.hpp"

#include <cxxabi.h>

#include <algorithm>
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
        "^(_*futex.*|.*lll_lock.*|_*lll_.*|_*pthread_mutex_lock.*|_*pthread_cond_.*wait.*|.*sem_wait.*|"
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

std::vector<std::string> native_frames(const std::string& text, pid_t tid) {
    std::vector<std::string> frames;
    std::istringstream in(text);
    std::string line;
    bool in_thread = false, seen_thread = false;
    const std::string want = "TID " + std::to_string(tid) + ":";
    while (std::getline(in, line)) {
        if (line.rfind("TID ", 0) == 0) {
            if (seen_thread && in_thread) break;
            in_thread = tid == 0 ? !seen_thread : line == want;
            seen_thread = true;
            continue;
        }
        if (!in_thread || line.empty() || line[0] != '#') continue;
        // "#3  0x000056367b9ec590 name, possibly with spaces (and arguments)"
        auto address = line.find("0x");
        auto name_at = address == std::string::npos ? address : line.find(' ', address);
        if (name_at == std::string::npos) continue;
        std::string name = line.substr(name_at + 1);
        while (!name.empty() && name.front() == ' ') name.erase(0, 1);
        if (name.rfind("- ", 0) == 0) name.erase(0, 2);  // eu-stack -i marks inlined frames
        // Symbol names come from the program; the regexes that read them recurse per character.
        if (name.size() > kNameLimit) name.resize(kNameLimit);
        if (!name.empty()) frames.push_back(plain_name(name));
    }
    return frames;
}

std::string native_signature(const std::vector<std::string>& frames) {
    // Sanitizer interceptors wrap the real call anywhere in the stack: skip them too.
    static const std::regex runtime("^(_*interceptor_.*|__tsan.*|__asan.*|__sanitizer.*|__ubsan.*)$");
    std::vector<std::string> meaningful;
    for (size_t i = 0; i < frames.size() && meaningful.size() < 2; ++i)
        if (!is_plumbing(frames[i]) && !std::regex_match(frames[i], runtime)) meaningful.push_back(frames[i]);
    if (meaningful.empty()) return "";
    if (meaningful.size() == 1) return meaningful[0];
    return meaningful[1] + " > " + meaningful[0];
}

std::vector<std::vector<PythonFrame>> python_stacks(const std::string& text) {
    std::vector<std::vector<PythonFrame>> stacks;
    std::istringstream in(text);
    std::string line;
    static const std::regex frame_re(R"re(^\s+File "(.*)", line (\d{1,9}) in (.*)$)re");
    bool current = false;
    size_t current_index = 0;
    while (std::getline(in, line)) {
        if (line.find("(most recent call first):") != std::string::npos) {
            current = line.rfind("Current thread", 0) == 0;
            stacks.emplace_back();
            if (current) current_index = stacks.size() - 1;
            continue;
        }
        if (line.size() > kNameLimit) line.resize(kNameLimit);
        std::smatch m;
        if (!stacks.empty() && std::regex_match(line, m, frame_re))
            stacks.back().push_back({m[1], std::stoi(m[2]), m[3]});
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
