// Reproduces: a forked child's first log call blocking forever on a logger mutex another thread held at fork.
// Seen in: Parsl #1659 and #3373 (Python logging locks held across fork); here the same hang in a C++ logger.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "start_method.hpp"

namespace {

// The shape of most C++ loggers' sinks: one std::mutex serialises every write, so a slow
// write holds it for as long as the sink takes.
class Logger {
public:
    explicit Logger(std::function<void(std::string_view)> sink) : sink_(std::move(sink)) {}

    void log(std::string_view message) {
        std::lock_guard lock(mutex_);
        sink_(message);
    }

private:
    std::mutex mutex_;
    std::function<void(std::string_view)> sink_;
};

void write_stderr(std::string_view message) {
    std::string line = std::string(message) + "\n";
    // One write(2), so a child's line is not interleaved with the parent's.
    [[maybe_unused]] ssize_t n = write(2, line.data(), line.size());
}

int child_body(Logger& logger) {
    scenario::mark("child: logging one line");
    logger.log("child: logged one line");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // First, before any thread: under forkserver this forks the server.
    scenario::StartMethod start(argc, argv);
    if (start.is_child()) {
        // A fresh process (spawn, forkserver) has no logger yet and makes its own, as a
        // real worker's main() would.
        Logger logger(write_stderr);
        return child_body(logger);
    }

    std::atomic_flag in_sink;
    Logger logger([&](std::string_view message) {
        write_stderr(message);
        in_sink.test_and_set();
        in_sink.notify_one();
        // Stands in for a slow sink (a remote collector, a disk under pressure) and widens
        // the window in which the mutex is held, so the child starts inside it.
        std::this_thread::sleep_for(std::chrono::seconds(1));
    });
    std::thread writer([&] { logger.log("parent: a record for the slow sink"); });
    in_sink.wait(false);

    scenario::mark("parent: a thread holds the logger mutex inside the sink; starting the child");
    int status = start.run_child([&] { return child_body(logger); });
    scenario::mark("parent: child ended with status " + std::to_string(status));
    writer.join();
    return status == 0 ? 0 : 1;
}
