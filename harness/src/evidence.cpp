#include "hangar/evidence.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sstream>

#include "hangar/atomic_file.hpp"
#include "hangar/process.hpp"
#include "hangar/signature.hpp"
#include "hangar/text_file.hpp"
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
            argv = {path->string(), "-i", "-p", std::to_string(pid)};  // -i: inlined frames too
        // Under its own watchdog: a stuck debugger is killed and the capture goes on.
        auto run = run_helper(argv, dir, std::min(left(deadline), std::chrono::milliseconds(5000)), options.interrupt);
        if (run && !run->out.empty()) return run->out;
        why += (run ? tool + " printed nothing" : run.error().message) + "; ";
    }
    return error("no native stack: " + why);
}

// gdb prints "#0  0x... in func (...) at file" rather than eu-stack's "#0  0x... func":
// reduce both to names for the signature.
std::vector<std::string> frames_of(const std::string& stack, pid_t tid) {
    if (stack.find("TID ") != std::string::npos) return native_frames(stack, tid);
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
    std::vector<ProcessState> tree = snapshot_tree(root);
    summary << "Processes and threads at the verdict (from /proc):\n";
    write_proc(tree, dir / "proc.txt", summary);

    // Freeze the tree so that capturing one process (or killing it for its Python stack)
    // cannot change what the others are doing.
    for (const auto& p : tree) kill(p.pid, SIGSTOP);

    // The process whose stack names the hang: the wedged one, else the deepest process
    // with no thread running or in a timed wait, else the last one.
    const ProcessState* hung = nullptr;
    for (const auto& p : tree)
        if (p.pid == options.wedged_pid || (!options.wedged_pid && p.wedged())) hung = &p;
    if (!hung)
        for (const auto& p : tree) {
            bool idle = true;
            for (const auto& t : p.threads) idle &= t.wait != Wait::running && t.wait != Wait::timed;
            if (idle) hung = &p;
        }
    if (!hung && !tree.empty()) hung = &tree.back();
    if (hung) evidence.hung_pid = hung->pid;

    std::string native_sig, python_sig;
    for (const auto& p : tree) {
        if (interrupted(options)) break;
        auto stack = native_stack(p.pid, options, dir, deadline);
        if (!stack) {
            evidence.notes.push_back("pid " + std::to_string(p.pid) + ": " + stack.error().message);
            continue;
        }
        (void)write_file_atomically(dir / ("stack-" + std::to_string(p.pid) + ".txt"), *stack);
        if (hung && p.pid == hung->pid) {
            // The thread to name: the first one in a private futex wait, else the first.
            pid_t tid = 0;
            for (const auto& t : p.threads)
                if (!tid && t.wait == Wait::private_futex_untimed) tid = t.tid;
            native_sig = native_signature(frames_of(*stack, tid));
        }
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
                auto stacks = python_stacks(dump);
                for (const auto& s : stacks)
                    if (python_sig.empty()) python_sig = python_signature(s);
            }
        }
    }
    evidence.signature = !python_sig.empty() ? python_sig : native_sig;

    std::ostringstream head;
    head << "signature: " << (evidence.signature.empty() ? "(none)" : evidence.signature) << "\n";
    head << "hung process: " << evidence.hung_pid << "\n";
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
