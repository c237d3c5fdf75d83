#include "hangar/gil.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "hangar/text_file.hpp"

extern char** environ;

namespace hangar {
namespace {

// The main thread holds the GIL in a C call while two threads want it. -I -S: no user
// site, no environment, nothing imported that is not needed.
constexpr const char* kProgram = R"(import ctypes, threading
hold = ctypes.PyDLL(None).usleep
def spin():
    while True:
        pass
ts = [threading.Thread(target=spin, daemon=True) for _ in range(2)]
for t in ts:
    t.start()
print(*(t.native_id for t in ts), flush=True)
hold(5000000)
)";

constexpr auto kCalibrationBudget = std::chrono::seconds(3);

// glibc's pthread_cond_t (since 2.25) is 8-aligned, and waiters sleep on __g_signals[0]
// or [1], at offsets 40 and 44.
uint64_t cond_start(uint64_t futex_word) { return futex_word - (futex_word % 8 == 0 ? 40 : 44); }

struct Calibrator {
    pid_t pid = -1;
    int out = -1;

    ~Calibrator() {
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
        }
        if (out >= 0) close(out);
    }

    bool start(const std::string& exe) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0) return false;
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&actions, p[1], 1);
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
        std::vector<std::string> args{exe, "-I", "-S", "-c", kProgram};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        close(p[1]);
        out = p[0];
        if (rc != 0) pid = -1;
        return rc == 0;
    }

    // The first line the program prints: its two waiters' thread ids.
    std::vector<pid_t> waiters(std::chrono::steady_clock::time_point deadline) {
        std::string line;
        while (line.find('\n') == std::string::npos) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            pollfd fd{out, POLLIN, 0};
            if (left.count() <= 0 || poll(&fd, 1, static_cast<int>(left.count())) <= 0) return {};
            char buf[256];
            ssize_t n = read(out, buf, sizeof buf);
            if (n <= 0) return {};
            line.append(buf, static_cast<size_t>(n));
        }
        std::istringstream in(line);
        std::vector<pid_t> tids;
        for (pid_t t; in >> t;) tids.push_back(t);
        return tids;
    }

    // The futex word a thread waits on with a deadline, or 0.
    uint64_t timed_futex(pid_t tid) const {
        std::string s = read_text("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/syscall");
        long nr = -1;
        unsigned long long addr = 0, op = 0, val = 0, timeout = 0;
        if (std::sscanf(s.c_str(), "%ld %llx %llx %llx %llx", &nr, &addr, &op, &val, &timeout) != 5) return 0;
        constexpr unsigned long long kWaitBitsetPrivate = 9 | 128;
#ifdef __x86_64__
        constexpr long kFutex = 202;
#else
        constexpr long kFutex = 98;
#endif
        return nr == kFutex && (op & ~256ull) == kWaitBitsetPrivate && timeout ? addr : 0;
    }
};

std::optional<GilSite> calibrate(const std::string& exe) {
    const auto deadline = std::chrono::steady_clock::now() + kCalibrationBudget;
    Calibrator c;
    if (!c.start(exe)) return std::nullopt;
    auto tids = c.waiters(deadline);
    if (tids.size() != 2) return std::nullopt;
    // Three samples in a row with both waiters on the same condition variable.
    int agreeing = 0;
    uint64_t cond = 0, word = 0;
    while (agreeing < 3 && std::chrono::steady_clock::now() < deadline) {
        uint64_t a = c.timed_futex(tids[0]), b = c.timed_futex(tids[1]);
        if (a && b && cond_start(a) == cond_start(b) && (agreeing == 0 || cond_start(a) == cond)) {
            cond = cond_start(a);
            word = a;
            ++agreeing;
        } else {
            agreeing = 0;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(3));
    }
    if (agreeing < 3) return std::nullopt;
    std::istringstream maps(read_text("/proc/" + std::to_string(c.pid) + "/maps"));
    for (std::string line; std::getline(maps, line);) {
        auto m = parse_maps_line(line);
        if (!m || word < m->start || word >= m->end) continue;
        if (!m->named_file()) return std::nullopt;  // not in a file's mapping: no stable place to name
        return GilSite{mapping_file(*m), m->offset + (cond - m->start)};
    }
    return std::nullopt;
}

}  // namespace

FileId mapping_file(const Mapping& m) {
    unsigned major = 0, minor = 0;
    std::sscanf(m.dev.c_str(), "%x:%x", &major, &minor);
    return FileId{static_cast<uint64_t>(makedev(major, minor)), m.inode};
}

std::optional<GilSite> gil_site(const std::string& exe_path, const FileId& exe) {
    static std::mutex mutex;
    static std::map<FileId, std::optional<GilSite>> known;
    std::lock_guard lock(mutex);  // runs in parallel ask once; the others wait for the answer
    if (auto it = known.find(exe); it != known.end()) return it->second;
    auto site = exe_path.empty() ? std::nullopt : calibrate(exe_path);
    known[exe] = site;
    return site;
}

bool is_gil_wait(ProcessFacts& p, uint64_t address) {
    auto exe = p.exe();
    if (!exe) return false;
    const Mapping* m = p.mapping(address);
    if (!m || !m->named_file()) return false;
    auto site = gil_site(p.exe_path(), *exe);
    if (!site || mapping_file(*m) != site->module) return false;
    const uint64_t offset = m->offset + (address - m->start);
    return offset == site->cond_offset + 40 || offset == site->cond_offset + 44;
}

}  // namespace hangar
