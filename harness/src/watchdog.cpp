#include "hangar/watchdog.hpp"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "hangar/text_file.hpp"

namespace hangar {

Result<Watched> watch(ProcessTree& tree, const WatchOptions& options) {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    const auto deadline = start + options.limit;
    auto elapsed = [&] { return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start); };
    if (options.stall) options.stall->set_window({tree.started(), deadline});

    for (;;) {
        pollfd fds[2] = {{tree.ended_fd(), POLLIN, 0}, {options.interrupt ? options.interrupt->fd() : -1, POLLIN, 0}};
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
        if (options.stall) left = std::min(left, options.stall->options().interval);
        int timeout_ms = left.count() > 0 ? static_cast<int>(left.count()) + 1 : 0;
        int n = poll(fds, 2, timeout_ms);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            tree.kill();
            return error(std::string("poll failed while watching a run: ") + std::strerror(errno));
        }
        if (fds[0].revents) {
            auto status = tree.collect();
            if (!status) return status.error();
            Watched w;
            w.elapsed = elapsed();
            if (WIFSIGNALED(*status)) w.ending = {Ending::Kind::signaled, WTERMSIG(*status)};
            else w.ending = {Ending::Kind::exited, WEXITSTATUS(*status)};
            return w;
        }
        if (fds[1].revents) {
            tree.kill();
            Watched w;
            w.elapsed = elapsed();
            w.interrupted = true;
            return w;
        }
        const auto now = clock::now();
        const bool proven = options.stall && now < deadline && options.stall->observe(tree.root_pid(), now);
        if (proven || now >= deadline) {
            // A proof that the run outlasts its limit ends it early, as the timeout it will be.
            const bool deadlocked = proven && !options.stall->outlasts();
            Watched w;
            w.elapsed = elapsed();
            w.ending = {deadlocked ? Ending::Kind::deadlocked : Ending::Kind::timed_out, 0};
            w.time_to_verdict = proven ? std::chrono::duration_cast<std::chrono::milliseconds>(
                                             now - *options.stall->onset())
                                       : w.elapsed;
            return w;
        }
    }
}

Result<HelperRun> run_helper(const std::vector<std::string>& argv, const std::filesystem::path& scratch,
                             std::chrono::milliseconds limit, const Interrupt* interrupt) {
    if (limit.count() <= 0) return error("no time left to run " + argv.front());
    static std::atomic<unsigned> counter{0};  // helpers of concurrent runs share a scratch folder
    const std::string name = ".helper." + std::to_string(getpid()) + "." + std::to_string(counter++);
    CommandSpec spec;
    spec.argv = argv;
    spec.environment = current_environment();
    spec.stdout_path = scratch / (name + ".out");
    spec.stderr_path = scratch / (name + ".err");
    spec.contain = false;
    auto tree = ProcessTree::launch(spec);
    if (!tree) return tree.error();
    WatchOptions options;
    options.limit = limit;
    options.interrupt = interrupt;
    auto watched = watch(*tree, options);
    tree->kill();
    constexpr size_t kMaxHelperOutput = 16 << 20;
    HelperRun run{watched ? watched->ending : Ending{}, read_text(spec.stdout_path, kMaxHelperOutput),
                  read_text(spec.stderr_path, kMaxHelperOutput)};
    std::error_code ec;
    std::filesystem::remove(spec.stdout_path, ec);
    std::filesystem::remove(spec.stderr_path, ec);
    if (!watched) return watched.error();
    if (watched->interrupted) return error(argv.front() + " was interrupted", Error::Kind::internal);
    if (watched->ending.kind == Ending::Kind::timed_out)
        return error(argv.front() + " took longer than " + std::to_string(limit.count()) + " ms and was killed");
    return run;
}

}  // namespace hangar
