// Native equivalents of Python's multiprocessing start methods, so a native scenario is
// written once and run under fork, spawn and forkserver like its Python siblings.
#pragma once

#include <functional>
#include <string_view>

namespace scenario {

enum class Method { fork, spawn, forkserver };

// How a scenario's child is started:
//   fork:       fork() of the (multi-threaded) scenario process; the child inherits every
//               lock in whatever state another thread left it.
//   spawn:      posix_spawn() of a fresh image of the scenario binary (/proc/self/exe)
//               with `--hangar-child`; nothing is inherited but fds 0-2.
//   forkserver: a single-threaded server process forked before any thread exists;
//               each child is forked from it, so it inherits only a clean state.
class StartMethod {
public:
    // Parses `--method fork|spawn|forkserver` (and the internal `--hangar-child`).
    // Must be called first in main(), before the scenario starts any thread: under
    // forkserver it starts the server here. Exits with status 2 on bad arguments.
    StartMethod(int argc, char** argv);
    ~StartMethod();
    StartMethod(const StartMethod&) = delete;
    StartMethod& operator=(const StartMethod&) = delete;

    Method method() const { return method_; }

    // True in a child started by `spawn` (a fresh image) or by `forkserver` (a fork of
    // the server, which returns from this constructor): main() must then run the child
    // body and return its result, doing nothing else.
    bool is_child() const { return child_; }

    // Runs `child` in a new process started by the method and waits for it without a
    // timeout. Returns the child's exit status, or 128 + signal if it was killed.
    // Under spawn and forkserver `child` is not called here: the new process runs it
    // from main() after is_child() says so.
    int run_child(const std::function<int()>& child);

private:
    Method method_ = Method::fork;
    bool child_ = false;
    int argc_;
    char** argv_;
    int server_fd_ = -1;   // forkserver: our end of the socket to the server
    int server_pid_ = -1;
};

// Prints `HANGAR-MARK: what` on stderr with a single write(2), so it is visible in the
// evidence even if the process hangs right after.
void mark(std::string_view what);

}  // namespace scenario
