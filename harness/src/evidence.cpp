#include "hangar/evidence.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include "hangar/atomic_file.hpp"
#include "hangar/process.hpp"
#include "hangar/signature.hpp"
#include "hangar/text_file.hpp"
#include "hangar/wait_graph.hpp"
#include "hangar/watchdog.hpp"

namespace hangar {
namespace {

using Clock = std::chrono::steady_clock;

// The last `n` lines of `text`.
std::string tail_lines(std::string text, int n) {
    size_t pos = text.size();
    if (pos && text[pos - 1] == '\n') --pos;
    for (int i = 0; i < n && pos != std::string::npos && pos > 0; ++i) pos = text.rfind('\n', pos - 1);
    return pos == std::string::npos || pos == 0 ? text : text.substr(pos + 1);
}

// A faulthandler dump is a few KiB; a process that keeps printing after SIGABRT is cut.
constexpr size_t kMaxDump = 1 << 20;

bool interrupted(const EvidenceOptions& options) { return options.interrupt && options.interrupt->requested(); }

std::chrono::milliseconds left(Clock::time_point deadline) {
    return std::max(std::chrono::milliseconds(0),
                    std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
}

Result<std::string> native_stack(pid_t pid, const EvidenceOptions& options, const std::filesystem::path& dir,
                                 Clock::time_point deadline) {
    std::string why;
    for (const auto& tool : options.stack_tools) {
        auto path = find_program(tool);
        if (!path) {
            why += tool + " not installed; ";
            continue;
        }
        std::vector<std::string> argv;
        if (tool == "gdb")
            argv = {path->string(), "-p", std::to_string(pid), "-batch", "-nx", "-ex", "thread apply all bt"};
        else
            argv = {path->string(), "-i", "-m", "-p", std::to_string(pid)};  // inlined frames; modules
        // Under its own watchdog: a stuck debugger is killed and the capture goes on.
        auto run = run_helper(argv, dir, std::min(left(deadline), std::chrono::milliseconds(5000)), options.interrupt);
        if (run && !run->out.empty()) return run->out;
        why += (run ? tool + " printed nothing" : run.error().message) + "; ";
    }
    return error("no native stack: " + why);
}

// gdb prints "#0  0x... in func (...) at file" rather than eu-stack's "#0  0x... func":
// reduce both to names for the signature.
std::vector<std::string> frames_of(const std::string& stack, pid_t tid, const ModuleBases& bases) {
    if (stack.find("TID ") != std::string::npos) return native_frames(stack, tid, &bases);
    std::vector<std::string> frames;
    std::istringstream in(stack);
    std::string line;
    bool started = false;
    while (std::getline(in, line)) {
        if (line.rfind("#0 ", 0) == 0) {
            if (started) break;
            started = true;
        }
        if (!started || line.empty() || line[0] != '#') continue;
        auto in_pos = line.find(" in ");
        std::istringstream fields(in_pos == std::string::npos ? line.substr(line.find(' ')) : line.substr(in_pos + 4));
        std::string name;
        fields >> name;
        if (!name.empty() && name != "??") frames.push_back(name);
    }
    return frames;
}

void write_proc(const std::vector<ProcessState>& tree, const std::filesystem::path& file, std::ostream& summary) {
    std::ostringstream out;
    for (const auto& p : tree) {
        out << "process " << p.pid << " (parent " << p.ppid << ")" << (p.wedged() ? " WEDGED" : "") << ": "
            << p.cmdline << "\n";
        for (const auto& t : p.threads)
            out << "  thread " << t.tid << " [" << t.comm << "] state " << t.state << ", wchan " << t.wchan << ": "
                << t.describe() << "\n";
    }
    summary << out.str();
    (void)write_file_atomically(file, out.str());
}

// The thread a faulthandler stack belongs to. faulthandler names threads by pthread_self(),
// the address of glibc's struct pthread, which lies at the top of the thread's own stack
// mapping: the thread whose stack pointer is in the same mapping. The main thread's
// struct is elsewhere; it is the one stack left over.
const std::vector<PythonFrame>* python_stack_of(const std::vector<PythonThreadStack>& stacks, const ProcessState& p,
                                                pid_t tid, ProcessFacts& facts) {
    const PythonThreadStack* leftover = nullptr;
    int leftovers = 0;
    for (const auto& s : stacks) {
        const Mapping* m = facts.mapping(s.thread);
        pid_t owner = 0;
        for (const auto& t : p.threads)
            if (m && t.sp >= m->start && t.sp < m->end) owner = t.tid;
        if (owner == tid) return &s.frames;
        if (!owner) {
            leftover = &s;
            ++leftovers;
        }
    }
    return tid == p.pid && leftovers == 1 ? &leftover->frames : nullptr;
}

}  // namespace

Evidence capture_evidence(pid_t root, const std::filesystem::path& dir, RunOutput& output,
                          const EvidenceOptions& options) {
    const auto deadline = Clock::now() + options.budget;
    Evidence evidence;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    std::ostringstream summary;

    // Before the faulthandler dumps are appended to it.
    output.sync();
    const std::string stderr_tail = tail_lines(output.tail(true, 64 * 1024), 10);
    // A proven deadlock is described from a sample that shows it: a thread waiting for the
    // GIL wakes every 5 ms, and a sample may catch it awake.
    std::vector<ProcessState> tree;
    std::unique_ptr<ProcFacts> facts;
    WaitGraph::Options graph_options;
    if (options.window) graph_options.window = &*options.window;
    WaitGraph graph;
    for (int attempt = 0; attempt < 5; ++attempt) {
        if (attempt) std::this_thread::sleep_for(std::chrono::milliseconds(7));
        tree = snapshot_tree(root);
        facts = std::make_unique<ProcFacts>();
        graph_options.now = SteadyClock::now();
        graph = WaitGraph::build(tree, *facts, graph_options);
        if (!options.proven_deadlock || graph.deadlocked()) break;
    }
    const std::string graph_text = graph.render();
    (void)write_file_atomically(dir / "graph.txt", graph_text);
    std::map<pid_t, ModuleBases> bases;
    for (const auto& p : tree) {
        bases[p.pid] = module_bases(read_text("/proc/" + std::to_string(p.pid) + "/maps"));
        (void)facts->process(p.pid).maps();  // now: a Python process dies of its faulthandler dump
    }
    summary << "Wait-for graph (a thread is live when it can act before the run's time limit):\n" << graph_text;
    summary << "\nProcesses and threads at the verdict (from /proc):\n";
    write_proc(tree, dir / "proc.txt", summary);

    // Freeze the tree so that capturing one process (or killing it for its Python stack)
    // cannot change what the others are doing.
    for (const auto& p : tree) kill(p.pid, SIGSTOP);

    // The thread whose stacks name the hang: the root of the wait-for graph, the wait the
    // others wait on; else the deepest process with no thread running or in a timed wait.
    const WaitNode* root_node = graph.root();
    const ProcessState* hung = nullptr;
    pid_t hung_tid = root_node ? root_node->tid : 0;
    for (const auto& p : tree)
        if (root_node && p.pid == root_node->pid) hung = &p;
    if (!hung)
        for (const auto& p : tree) {
            bool idle = true;
            for (const auto& t : p.threads) idle &= t.wait != Wait::running && t.wait != Wait::timed;
            if (idle) hung = &p;
        }
    if (!hung && !tree.empty()) hung = &tree.back();
    if (hung) evidence.hung_pid = hung->pid;
    if (hung && !hung_tid)
        for (const auto& t : hung->threads)
            if (!hung_tid && t.wait == Wait::private_futex_untimed) hung_tid = t.tid;
    evidence.hung_tid = hung_tid;

    std::string native_sig, python_sig;
    for (const auto& p : tree) {
        if (interrupted(options)) break;
        auto stack = native_stack(p.pid, options, dir, deadline);
        if (!stack) {
            evidence.notes.push_back("pid " + std::to_string(p.pid) + ": " + stack.error().message);
            continue;
        }
        (void)write_file_atomically(dir / ("stack-" + std::to_string(p.pid) + ".txt"), *stack);
        if (hung && p.pid == hung->pid) native_sig = native_signature(frames_of(*stack, hung_tid, bases[p.pid]));
    }

    if (options.python_tracebacks) {
        // Children first: a stopped child whose parent dies is in an orphaned process
        // group, and the kernel would SIGHUP it before it could print its stack.
        for (auto it = tree.rbegin(); it != tree.rend(); ++it) {
            const ProcessState& p = *it;
            if (!p.is_python()) continue;
            if (interrupted(options)) break;
            output.sync();
            const uint64_t before = output.stderr_total();
            int pidfd = static_cast<int>(syscall(SYS_pidfd_open, p.pid, 0));
            kill(p.pid, SIGABRT);
            kill(p.pid, SIGCONT);  // only this one: the others stay frozen
            pollfd done[2] = {{pidfd, POLLIN, 0}, {options.interrupt ? options.interrupt->fd() : -1, POLLIN, 0}};
            bool ended = pidfd >= 0 &&
                         poll(done, 2, static_cast<int>(std::min<long>(left(deadline).count(), 2000))) > 0 &&
                         done[0].revents;
            if (pidfd >= 0) close(pidfd);
            output.sync();
            std::string dump = output.stderr_since(before);
            if (dump.size() > kMaxDump) dump.resize(kMaxDump);
            if (!ended) evidence.notes.push_back("pid " + std::to_string(p.pid) + ": no faulthandler dump in time");
            if (dump.empty()) continue;
            (void)write_file_atomically(dir / ("python-" + std::to_string(p.pid) + ".txt"), dump);
            if (hung && p.pid == hung->pid) {
                auto threads = python_thread_stacks(dump);
                if (auto* mine = python_stack_of(threads, p, hung_tid, facts->process(p.pid)))
                    python_sig = python_signature(*mine);
                if (python_sig.empty())  // no thread matched: the current thread's, as before
                    for (const auto& s : python_stacks(dump))
                        if (python_sig.empty()) python_sig = python_signature(s);
            }
        }
    }
    evidence.signature = !python_sig.empty() ? python_sig : native_sig;
    // The owner proof belongs to the signature: runs held up by a mutex that fork left
    // without an owner group apart from runs stuck on a lock a live thread holds.
    if (root_node && root_node->owner_outside && !evidence.signature.empty())
        evidence.signature += root_node->owner_note.find("held across fork (") != std::string::npos
                                  ? " (owner not in this process: held across fork)"
                                  : " (owner not in this process)";

    std::ostringstream head;
    head << "signature: " << (evidence.signature.empty() ? "(none)" : evidence.signature) << "\n";
    head << "hung process: " << evidence.hung_pid << ", thread " << evidence.hung_tid << "\n";
    if (root_node) head << "root of the wait: " << graph.sentence(*root_node) << "\n";
    if (!options.not_a_deadlock_because.empty())
        head << "not proven a deadlock: " << options.not_a_deadlock_because << "\n";
    for (const auto& n : evidence.notes) head << "note: " << n << "\n";
    head << "\n" << summary.str();
    head << "\nLast lines of stdout:\n" << tail_lines(output.tail(false, 64 * 1024), 10);
    head << "\nLast lines of stderr (before any faulthandler dump):\n" << stderr_tail;
    (void)write_file_atomically(dir / "summary.txt", head.str());
    return evidence;
}

}  // namespace hangar
