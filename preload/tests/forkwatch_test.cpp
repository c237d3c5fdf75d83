// Tests of libhangar_forkwatch.so: real programs (fw_scenario, and CPython running
// fw_python.py) run with LD_PRELOAD and HANGAR_EVENTS_FILE, their records read back and
// checked against what the programs say about themselves. Waits are bounded and event
// driven: pipes for output, inotify for the events file, pidfd for exits.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const char* kLibrary = FORKWATCH_LIBRARY;
const char* kScenario = FW_SCENARIO;
const char* kPythonScript = FW_PYTHON_SCRIPT;
const char* kPython = "/usr/bin/python3";

struct TempDir {
    fs::path path;
    TempDir() {
        char tmpl[] = "/tmp/forkwatch-test-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path); }
};

struct Options {
    bool preload = true;
    bool events = true;
    int timeout_s = 60;
    bool stdin_pipe = false;  // send() writes to the program's stdin
    // The stack budget: generous, so a test that checks a stack does not depend on how
    // soon a busy machine schedules the holder (the library's default is 50 ms).
    int stack_ms = 5000;
};

// A started program: its pid, its stdout, its events file.
class Program {
public:
    Program(const std::vector<std::string>& argv, const fs::path& dir, Options options) : dir_(dir) {
        events_ = dir / "events.jsonl";
        std::ofstream(events_).close();  // exists from the start: inotify watches it
        deadline_ = std::chrono::steady_clock::now() + std::chrono::seconds(options.timeout_s);
        int out[2], in[2] = {-1, -1};
        if (pipe2(out, O_CLOEXEC) != 0) std::abort();
        if (options.stdin_pipe && pipe2(in, O_CLOEXEC) != 0) std::abort();
        std::vector<std::string> env;
        for (char** e = environ; *e; e++) {
            std::string var = *e;
            if (var.rfind("LD_PRELOAD=", 0) == 0 || var.rfind("HANGAR_", 0) == 0) continue;
            env.push_back(var);
        }
        if (options.preload) env.push_back(std::string("LD_PRELOAD=") + kLibrary);
        if (options.events) env.push_back("HANGAR_EVENTS_FILE=" + events_.string());
        env.push_back("HANGAR_FORKWATCH_STACK_MS=" + std::to_string(options.stack_ms));
        pid_ = fork();
        if (pid_ == 0) {
            dup2(out[1], 1);
            if (in[0] >= 0) dup2(in[0], 0);
            if (chdir(dir.c_str()) != 0) _exit(126);
            std::vector<char*> args, envp;
            for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            for (auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
            envp.push_back(nullptr);
            execve(args[0], args.data(), envp.data());
            _exit(127);
        }
        close(out[1]);
        out_ = out[0];
        if (in[0] >= 0) close(in[0]);
        in_ = in[1];
    }
    ~Program() {
        if (pid_ > 0 && !reaped_) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        if (out_ >= 0) close(out_);
        if (in_ >= 0) close(in_);
    }

    void send(const std::string& line) { (void)!write(in_, line.data(), line.size()); }
    void close_stdin() {
        close(in_);
        in_ = -1;
    }

    int ms_left() const {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - std::chrono::steady_clock::now());
        return left.count() > 0 ? static_cast<int>(left.count()) : 0;
    }

    // Reads stdout to its end (every process that holds it has exited), then reaps the
    // program. Returns false at the deadline (the program is then killed).
    bool finish() {
        char buf[4096];
        for (;;) {
            pollfd p{out_, POLLIN, 0};
            int r = poll(&p, 1, ms_left());
            if (r <= 0) {
                kill(pid_, SIGKILL);
                waitpid(pid_, &status_, 0);
                reaped_ = true;
                return false;
            }
            ssize_t n = read(out_, buf, sizeof buf);
            if (n <= 0) break;
            stdout_.append(buf, static_cast<size_t>(n));
        }
        waitpid(pid_, &status_, 0);
        reaped_ = true;
        return true;
    }

    // Waits, through inotify, until the events file has a record with event == `event`.
    std::optional<json> wait_for_event(const std::string& event) {
        int in = inotify_init1(IN_CLOEXEC);
        inotify_add_watch(in, events_.c_str(), IN_MODIFY);
        std::optional<json> found;
        while (!(found = find_event(event)) && ms_left() > 0) {
            pollfd p{in, POLLIN, 0};
            if (poll(&p, 1, ms_left()) == 1) {
                char buf[4096];
                (void)!read(in, buf, sizeof buf);
            }
        }
        close(in);
        return found;
    }

    std::optional<json> find_event(const std::string& event) {
        for (auto& r : events())
            if (r["event"] == event) return r;
        return std::nullopt;
    }

    // Every record, each checked against EVENTS.md's rules for every record.
    // Every record but the one a process writes when it loads the library.
    std::vector<json> events() {
        std::vector<json> records;
        for (auto& r : all_events())
            if (r["event"] != "forkwatch_loaded" && r["event"] != "fork_stacks") records.push_back(r);
        return records;
    }

    std::vector<json> all_events() {
        std::vector<json> records;
        std::ifstream in(events_);
        std::string line;
        while (std::getline(in, line)) {
            EXPECT_LT(line.size(), 60u * 1024) << "record over 60 KiB";
            json r = json::parse(line, nullptr, false);
            EXPECT_FALSE(r.is_discarded()) << "not JSON: " << line;
            if (r.is_discarded()) continue;
            EXPECT_TRUE(r.contains("event") && r["event"].is_string()) << line;
            EXPECT_TRUE(r.contains("pid") && r["pid"].is_number_integer()) << line;
            records.push_back(r);
        }
        return records;
    }

    // Records of one kind; a fork record comes with its holders' stacks from the parent's
    // fork_stacks record (same parent, tid and ns), as hangar joins them.
    std::vector<json> events_named(const std::string& name) {
        std::vector<json> out, stacks;
        auto all = all_events();
        for (auto& r : all)
            if (r["event"] == "fork_stacks") stacks.push_back(r);
        for (auto& r : all) {
            if (r["event"] != name) continue;
            if (name == "fork")
                for (auto& s : stacks)
                    if (s["pid"] == r["parent"] && s["tid"] == r["tid"] && s["ns"] == r["ns"])
                        for (auto& h : r["hazards"])
                            for (auto& holder : s["holders"])
                                if (holder["holder_tid"] == h["holder_tid"]) {
                                    h.erase("stack_note");
                                    if (holder.contains("stack")) h["stack"] = holder["stack"];
                                    else h["stack_note"] = holder["stack_note"];
                                }
            out.push_back(r);
        }
        return out;
    }

    // key=value lines of stdout (the last value of a key wins).
    std::map<std::string, std::string> values() const {
        std::map<std::string, std::string> v;
        std::istringstream in(stdout_);
        std::string line;
        while (std::getline(in, line)) {
            auto eq = line.find('=');
            if (eq != std::string::npos) v[line.substr(0, eq)] = line.substr(eq + 1);
        }
        return v;
    }

    // Reads stdout until `key=` has appeared `times` times; returns its last value.
    std::string read_value(const std::string& key, int times = 1) {
        char buf[4096];
        auto seen = [&] {
            int n = 0;
            for (size_t at = 0; (at = stdout_.find(key + "=", at)) != std::string::npos; at++)
                if (at == 0 || stdout_[at - 1] == '\n') n++;
            return n;
        };
        while (seen() < times) {
            pollfd p{out_, POLLIN, 0};
            if (poll(&p, 1, ms_left()) != 1) return "";
            ssize_t n = read(out_, buf, sizeof buf);
            if (n <= 0) return "";
            stdout_.append(buf, static_cast<size_t>(n));
        }
        return values()[key];
    }

    pid_t pid() const { return pid_; }
    int status() const { return status_; }
    const std::string& out() const { return stdout_; }
    const fs::path& events_file() const { return events_; }

private:
    fs::path dir_, events_;
    pid_t pid_ = -1;
    int out_ = -1;
    int in_ = -1;
    int status_ = -1;
    bool reaped_ = false;
    std::string stdout_;
    std::chrono::steady_clock::time_point deadline_;
};

std::vector<std::string> scenario(const std::string& mode) { return {kScenario, mode}; }
std::vector<std::string> python(const std::string& mode) { return {kPython, kPythonScript, mode}; }

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

bool stack_has(const json& hazard, const std::string& part) {
    if (!hazard.contains("stack")) return false;
    for (auto& frame : hazard["stack"])
        if (contains(frame.get<std::string>(), part)) return true;
    return false;
}

// glibc's %p and the record write addresses the same way: "0x" and lowercase hex.
std::string address(const std::string& printed) { return printed; }

// Runs a fork scenario to its end and returns its single fork record (checked).
json single_fork_record(Program& p) {
    EXPECT_TRUE(p.finish()) << "timed out; stdout:\n" << p.out();
    EXPECT_TRUE(WIFEXITED(p.status()) && WEXITSTATUS(p.status()) == 0) << p.out();
    auto v = p.values();
    EXPECT_EQ(v["child_status"], "exit:0");
    auto forks = p.events_named("fork");
    EXPECT_EQ(forks.size(), 1u) << p.out();
    if (forks.size() != 1) return json::object();
    json r = forks[0];
    EXPECT_EQ(r["pid"], std::stoi(v["child"]));
    EXPECT_EQ(r["parent"], p.pid());
    EXPECT_EQ(r["tid"], p.pid());  // the main thread forks
    EXPECT_TRUE(r["ns"].is_number_integer());
    EXPECT_TRUE(r["thread"].is_string());
    EXPECT_EQ(r["hazards"].size(), 1u) << r.dump();
    return r;
}

void expect_native_lock_hazard(const std::string& mode, const std::string& kind, const std::string& addr_key,
                               const std::string& holder, const std::string& function) {
    TempDir dir;
    Program p(scenario(mode), dir.path, {});
    json r = single_fork_record(p);
    if (r.empty() || r["hazards"].empty()) return;
    json h = r["hazards"][0];
    auto v = p.values();
    EXPECT_EQ(h["kind"], kind);
    EXPECT_EQ(h["addr"], address(v[addr_key]));
    EXPECT_EQ(h["holder_tid"], std::stoi(v["holder_tid"]));
    EXPECT_EQ(h["holder"], holder);
    EXPECT_TRUE(contains(h["acquired_at"], "fw_scenario(" + function + "+0x")) << h.dump();
    ASSERT_TRUE(h.contains("stack")) << h.dump();
    EXPECT_TRUE(contains(h["stack"][0], "libc.so.6(")) << "innermost frame: the holder's read(): " << h.dump();
    EXPECT_TRUE(stack_has(h, "fw_scenario(" + function + "+0x")) << h.dump();
    EXPECT_FALSE(stack_has(h, "libhangar_forkwatch")) << h.dump();
}

TEST(ForkwatchNative, MutexHeldByAnotherThreadIsReportedWithItsStack) {
    expect_native_lock_hazard("mutex", "pthread_mutex", "mutex", "holder", "fw_hold_mutex");
}

TEST(ForkwatchNative, StdMutexHeldByAnotherThreadIsReported) {
    expect_native_lock_hazard("std-mutex", "pthread_mutex", "std_mutex", "holder", "fw_hold_std_mutex");
}

TEST(ForkwatchNative, ReaderHeldRwlockIsReportedAsRead) {
    expect_native_lock_hazard("rwlock-read", "pthread_rwlock_read", "rwlock", "reader", "fw_hold_rwlock_read");
}

TEST(ForkwatchNative, ForkWhileNoOtherThreadHoldsAnythingWritesNoRecord) {
    TempDir dir;
    Program p(scenario("nothing"), dir.path, {});
    ASSERT_TRUE(p.finish());
    EXPECT_EQ(p.values()["child_status"], "exit:0");
    EXPECT_TRUE(p.events().empty()) << fs::file_size(p.events_file()) << " bytes written";
    // What it does write: that the library was loaded, once per process, so hangar can tell
    // "no hazard" from "no detector".
    auto loaded = p.events_named("forkwatch_loaded");
    ASSERT_EQ(loaded.size(), 1u);
    EXPECT_EQ(loaded[0]["pid"], p.pid());
}

TEST(ForkwatchNative, ThreadWaitingInPthreadCondWaitDoesNotHoldItsMutex) {
    TempDir dir;
    Program p(scenario("cond-wait"), dir.path, {});
    ASSERT_TRUE(p.finish());
    EXPECT_EQ(p.values()["child_status"], "exit:0");
    EXPECT_TRUE(p.events().empty()) << std::ifstream(p.events_file()).rdbuf();
}

TEST(ForkwatchNative, ChildThatExecsOrExitsAtOnceWritesNoRecord) {
    for (const char* mode : {"exec", "exit"}) {
        TempDir dir;
        Program p(scenario(mode), dir.path, {});
        ASSERT_TRUE(p.finish()) << mode;
        EXPECT_EQ(p.values()["child_status"], "exit:0") << mode;
        EXPECT_TRUE(p.events().empty()) << mode << ": a mutex was held, but the child ran nothing";
    }
}

TEST(ForkwatchNative, ChildBlockingOnTheHeldMutexWritesInheritedWaitAndHangs) {
    TempDir dir;
    Program p(scenario("inherited"), dir.path, {.timeout_s = 30});
    std::string child = p.read_value("child");
    ASSERT_FALSE(child.empty()) << p.out();
    auto wait = p.wait_for_event("inherited_wait");
    ASSERT_TRUE(wait.has_value()) << "no inherited_wait record";
    pid_t child_pid = std::stoi(child);
    EXPECT_EQ((*wait)["pid"], child_pid);
    EXPECT_EQ((*wait)["tid"], child_pid);
    EXPECT_EQ((*wait)["parent"], p.pid());
    EXPECT_EQ((*wait)["kind"], "pthread_mutex");
    EXPECT_EQ((*wait)["addr"], address(p.read_value("mutex")));
    EXPECT_EQ((*wait)["holder_tid"], std::stoi(p.read_value("holder_tid")));
    EXPECT_EQ((*wait)["holder"], "holder");
    // The record comes just before the child's pthread_mutex_lock; the child is then seen
    // blocked in futex(2) (no event marks that: /proc is read, bounded).
    bool blocked = false;
    for (int i = 0; i < 500 && !blocked; i++) {
        std::ifstream syscall_file("/proc/" + child + "/syscall");
        std::string nr;
        syscall_file >> nr;
        blocked = nr == "202";
        if (!blocked) usleep(10000);
    }
    EXPECT_TRUE(blocked) << "the child is not waiting in futex";
    kill(child_pid, SIGKILL);
    ASSERT_TRUE(p.finish());
    EXPECT_EQ(p.values()["child_status"], "signal:9") << "the child got the lock: " << p.out();
    EXPECT_EQ(p.events_named("fork").size(), 1u);
}

// A holder that cannot answer (stopped by ptrace) leaves a stack_note; its answer, when it
// comes during the next fork, does not spoil that fork's record.
TEST(ForkwatchNative, AStackThatComesLateLeavesANoteAndTheNextRecordIsWhole) {
    TempDir dir;
    Program p(scenario("fork-on-request"), dir.path, {.timeout_s = 60, .stdin_pipe = true, .stack_ms = 100});
    ASSERT_FALSE(p.read_value("mutex").empty()) << p.out();  // printed once the holder holds it
    pid_t holder = std::stoi(p.read_value("holder_tid"));
    if (ptrace(PTRACE_SEIZE, holder, nullptr, nullptr) != 0)
        GTEST_SKIP() << "cannot ptrace the holder thread: " << std::strerror(errno);
    ASSERT_EQ(ptrace(PTRACE_INTERRUPT, holder, nullptr, nullptr), 0) << std::strerror(errno);
    int status = 0;
    ASSERT_EQ(waitpid(holder, &status, __WALL), holder);
    p.send("fork\n");
    EXPECT_EQ(p.read_value("child_status", 1), "exit:0");
    ASSERT_EQ(ptrace(PTRACE_DETACH, holder, nullptr, nullptr), 0) << std::strerror(errno);
    p.send("fork\n");
    EXPECT_EQ(p.read_value("child_status", 2), "exit:0");
    p.close_stdin();
    ASSERT_TRUE(p.finish()) << p.out();
    auto forks = p.events_named("fork");
    ASSERT_EQ(forks.size(), 2u);
    json late = forks[0]["hazards"][0], next = forks[1]["hazards"][0];
    EXPECT_FALSE(late.contains("stack")) << late.dump();
    EXPECT_TRUE(contains(late.value("stack_note", ""), "did not answer in time")) << late.dump();
    EXPECT_EQ(late["addr"], p.values()["mutex"]);
    EXPECT_TRUE(stack_has(next, "fw_scenario(fw_hold_mutex+0x")) << next.dump();
    EXPECT_EQ(next["holder_tid"], holder);
}

TEST(ForkwatchNative, ReinitialisedMutexIsNoInheritedWait) {
    TempDir dir;
    Program p(scenario("reinit"), dir.path, {});
    single_fork_record(p);
    EXPECT_TRUE(p.events_named("inherited_wait").empty());
}

TEST(ForkwatchNative, ReaderTakingAReaderHeldRwlockIsNoInheritedWait) {
    TempDir dir;
    Program p(scenario("rwlock-read-inherited"), dir.path, {});
    single_fork_record(p);
    EXPECT_TRUE(p.events_named("inherited_wait").empty());
}

TEST(ForkwatchNative, ForkWhileAThreadIsInsideGetaddrinfoIsALibcCallHazard) {
    TempDir dir;
    Program p(scenario("getaddrinfo"), dir.path, {});
    json r = single_fork_record(p);
    if (r.empty() || r["hazards"].empty()) return;
    json h = r["hazards"][0];
    EXPECT_EQ(h["kind"], "libc_call");
    EXPECT_EQ(h["call"], "getaddrinfo");
    EXPECT_TRUE(contains(h["lock"], "check_pf.c")) << h.dump();
    EXPECT_EQ(h["holder_tid"], std::stoi(p.values()["holder_tid"]));
    EXPECT_EQ(h["holder"], "resolver");
    EXPECT_TRUE(stack_has(h, "libc.so.6(getaddrinfo+0x")) << h.dump();
    EXPECT_TRUE(stack_has(h, "_nss_fwtest_gethostbyname4_r")) << h.dump();
    EXPECT_FALSE(stack_has(h, "libhangar_forkwatch")) << h.dump();
    EXPECT_TRUE(p.events_named("inherited_wait").empty());
}

TEST(ForkwatchNative, ForkWhileThreadsResolveLocalhostFindsThemInsideGetaddrinfo) {
    TempDir dir;
    Program p({kScenario, "getaddrinfo-loop", "50"}, dir.path, {.timeout_s = 120});
    ASSERT_TRUE(p.finish()) << p.out();
    EXPECT_TRUE(contains(p.out(), "forks=50 ok=50")) << p.out();
    int inside = 0;
    for (auto& r : p.events_named("fork"))
        for (auto& h : r["hazards"]) {
            EXPECT_EQ(h["holder"], "resolver") << r.dump();
            if (h["kind"] == "libc_call" && h["call"] == "getaddrinfo") inside++;
        }
    EXPECT_GT(inside, 0) << "no fork out of 50 found a resolver inside getaddrinfo";
}

TEST(ForkwatchNative, ChildEnteringGetaddrinfoWritesInheritedWait) {
    TempDir dir;
    Program p(scenario("getaddrinfo-inherited"), dir.path, {});
    single_fork_record(p);
    auto waits = p.events_named("inherited_wait");
    ASSERT_EQ(waits.size(), 1u);
    EXPECT_EQ(waits[0]["kind"], "libc_call");
    EXPECT_EQ(waits[0]["call"], "getaddrinfo");
    EXPECT_EQ(waits[0]["pid"], std::stoi(p.values()["child"]));
    EXPECT_EQ(waits[0]["holder"], "resolver");
}

TEST(ForkwatchNative, ThreadNamesAreEscapedIntoValidJson) {
    TempDir dir;
    Program p(scenario("escape"), dir.path, {});
    json r = single_fork_record(p);
    if (r.empty() || r["hazards"].empty()) return;
    // prctl name "q\"b\\s\x01\xff": quote, backslash and control escaped, the invalid
    // byte replaced by U+FFFD.
    EXPECT_EQ(r["hazards"][0]["holder"], "q\"b\\s\x01\xef\xbf\xbd");
    std::ifstream in(p.events_file());
    std::string line;
    while (std::getline(in, line) && !contains(line, R"("event":"fork")")) {
    }
    EXPECT_TRUE(contains(line, R"("holder":"q\"b\\s\u0001\ufffd")")) << line;
}

void expect_every_child_exits(const std::string& forkers) {
    TempDir dir;
    Program p({kScenario, "stress", "500", forkers}, dir.path, {.timeout_s = 240});
    ASSERT_TRUE(p.finish()) << p.out();
    EXPECT_TRUE(WIFEXITED(p.status()) && WEXITSTATUS(p.status()) == 0) << p.out();
    EXPECT_TRUE(contains(p.out(), "forks=500 ok=500 hung=0 failed=0")) << p.out();
    for (auto& r : p.events_named("fork")) {
        EXPECT_FALSE(r["hazards"].empty()) << r.dump();
        for (auto& h : r["hazards"]) EXPECT_EQ(h["holder"], "hammer") << r.dump();
    }
}

TEST(ForkwatchNative, FiveHundredForksWithContentionEveryChildExits) { expect_every_child_exits("1"); }

TEST(ForkwatchNative, TwoThreadsForkingAtOnceEveryChildExits) { expect_every_child_exits("2"); }

// What the program itself prints about the run, less what differs between any two runs.
std::string behaviour(const Program& p) {
    std::string kept;
    std::istringstream in(p.out());
    std::string line;
    while (std::getline(in, line))
        if (!contains(line, "tid=") && !contains(line, "=0x") && line.rfind("child=", 0) != 0) kept += line + "\n";
    return kept;
}

TEST(ForkwatchNative, WithoutEventsFileTheLibraryWritesNothingAndChangesNothing) {
    TempDir plain_dir, preloaded_dir;
    Program plain(scenario("behaviour"), plain_dir.path, {.preload = false, .events = false});
    Program preloaded(scenario("behaviour"), preloaded_dir.path, {.preload = true, .events = false});
    ASSERT_TRUE(plain.finish());
    ASSERT_TRUE(preloaded.finish());
    EXPECT_EQ(plain.status(), preloaded.status());
    EXPECT_EQ(behaviour(plain), behaviour(preloaded));
    EXPECT_TRUE(contains(behaviour(preloaded), "start_rt_handlers=\n")) << behaviour(preloaded);
    EXPECT_EQ(fs::file_size(preloaded.events_file()), 0u);
    // Nothing else appeared in the working directory either.
    EXPECT_EQ(std::distance(fs::directory_iterator(preloaded_dir.path), fs::directory_iterator()), 1);
}

TEST(ForkwatchNative, EventsFileDescriptorSitsHighAndLowNumbersStayFree) {
    TempDir plain_dir, watched_dir;
    Program plain(scenario("behaviour"), plain_dir.path, {.preload = false, .events = false});
    Program watched(scenario("behaviour"), watched_dir.path, {});
    ASSERT_TRUE(plain.finish());
    ASSERT_TRUE(watched.finish());
    std::string fds_plain = plain.values()["start_fds"], fds_watched = watched.values()["start_fds"];
    EXPECT_EQ(fds_watched, fds_plain + "500,") << "plain: " << fds_plain;
}

// CPython: threading locks are POSIX semaphores (Python/thread_pthread.h, USE_SEMAPHORES).
class ForkwatchPython : public ::testing::Test {
protected:
    void SetUp() override {
        if (access(kPython, X_OK) != 0) GTEST_SKIP() << kPython << " missing";
    }
};

void expect_python_sem_hazard(const std::string& mode) {
    TempDir dir;
    Program p(python(mode), dir.path, {});
    json r = single_fork_record(p);
    if (r.empty() || r["hazards"].empty()) return;
    json h = r["hazards"][0];
    EXPECT_EQ(h["kind"], "sem") << h.dump();
    EXPECT_EQ(h["holder_tid"], std::stoi(p.values()["holder_tid"]));
    EXPECT_EQ(h["holder"], "pyholder");
    EXPECT_TRUE(contains(h["addr"], "0x"));
    EXPECT_TRUE(stack_has(h, "python3.11")) << h.dump();
    EXPECT_TRUE(stack_has(h, "_PyEval_EvalFrameDefault")) << h.dump();
}

TEST_F(ForkwatchPython, HeldThreadingLockIsASem) { expect_python_sem_hazard("lock"); }

TEST_F(ForkwatchPython, HeldRLockIsASem) { expect_python_sem_hazard("rlock"); }

TEST_F(ForkwatchPython, ConditionHeldInsideWithIsASem) { expect_python_sem_hazard("condition-held"); }

TEST_F(ForkwatchPython, ThreadHoldingNothingWritesNoRecord) {
    // Every threading.Thread holds its _tstate_lock for life: not a hazard.
    TempDir dir;
    Program p(python("nothing"), dir.path, {});
    ASSERT_TRUE(p.finish());
    EXPECT_EQ(p.values()["child_status"], "exit:0") << p.out();
    EXPECT_TRUE(p.events().empty()) << std::ifstream(p.events_file()).rdbuf();
}

TEST_F(ForkwatchPython, ThreadWaitingInConditionWaitIsNotReported) {
    TempDir dir;
    Program p(python("condition-wait"), dir.path, {});
    ASSERT_TRUE(p.finish());
    ASSERT_EQ(p.values().count("error"), 0u) << p.out();
    EXPECT_EQ(p.values()["child_status"], "exit:0") << p.out();
    EXPECT_TRUE(p.events().empty()) << std::ifstream(p.events_file()).rdbuf();
}

TEST_F(ForkwatchPython, LockReleasedByAnotherThreadIsNoLongerHeld) {
    TempDir dir;
    Program p(python("released-by-other"), dir.path, {});
    ASSERT_TRUE(p.finish());
    EXPECT_EQ(p.values()["child_status"], "exit:0") << p.out();
    EXPECT_TRUE(p.events().empty()) << std::ifstream(p.events_file()).rdbuf();
}

TEST_F(ForkwatchPython, ChildAcquiringTheHeldLockWritesInheritedWait) {
    TempDir dir;
    Program p(python("inherited"), dir.path, {.timeout_s = 30});
    std::string child = p.read_value("child");
    ASSERT_FALSE(child.empty()) << p.out();
    auto wait = p.wait_for_event("inherited_wait");
    ASSERT_TRUE(wait.has_value());
    EXPECT_EQ((*wait)["kind"], "sem");
    EXPECT_EQ((*wait)["pid"], std::stoi(child));
    EXPECT_EQ((*wait)["holder_tid"], std::stoi(p.read_value("holder_tid")));
    EXPECT_EQ((*wait)["holder"], "pyholder");
    auto fork = p.find_event("fork");
    ASSERT_TRUE(fork.has_value());
    EXPECT_EQ((*fork)["hazards"][0]["addr"], (*wait)["addr"]);
    kill(std::stoi(child), SIGKILL);
    ASSERT_TRUE(p.finish());
    EXPECT_EQ(p.values()["child_status"], "exit:-9") << p.out();
}

}  // namespace
