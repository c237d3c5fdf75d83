// A stand-in for a scenario, for the harness's own tests: it builds the process shapes
// supervision must handle (daemons, hung trees, crashes) and reports its processes'
// PIDs, as the harness sees them, through the socket named by $HANGAR_TEST_PIDS.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <mutex>
#include <thread>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "report_pid.hpp"

namespace {

[[noreturn]] void pause_forever() {
    for (;;) pause();
}

// Double fork and setsid: the classic daemon, no longer in the run's process group or
// session and reparented away from the command.
// Returns once the daemon has reported its PID, so a test never waits for a report from
// a daemon that the end of the run killed first.
void start_daemon() {
    int reported[2];
    if (pipe(reported) != 0) _exit(1);
    pid_t child = fork();
    if (child == 0) {
        setsid();
        if (fork() == 0) {
            report_pid();
            [[maybe_unused]] ssize_t n = write(reported[1], "r", 1);
            pause_forever();
        }
        _exit(0);
    }
    waitpid(child, nullptr, 0);
    close(reported[1]);
    char c;
    [[maybe_unused]] ssize_t n = read(reported[0], &c, 1);
}

void nap_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// A thread takes a std::mutex and keeps it (blocked reading a pipe nobody writes); the
// forked child then waits for it forever: the fork-while-locked hang in its smallest form.
// The parent waits for the child untimed (`wedge`) or polls it with a deadline (`wedge-
// polling`), which must keep stall detection from calling it a deadlock.
int wedge(bool polling) {
    static std::mutex lock;
    int never[2];
    if (pipe(never) != 0) return 1;
    int held[2];
    if (pipe(held) != 0) return 1;
    std::thread holder([&] {
        std::lock_guard guard(lock);
        char c = 1;
        [[maybe_unused]] ssize_t w = write(held[1], &c, 1);
        [[maybe_unused]] ssize_t r = read(never[0], &c, 1);
    });
    char c;
    if (read(held[0], &c, 1) != 1) return 1;
    pid_t child = fork();
    if (child == 0) {
        lock.lock();
        _exit(0);
    }
    if (polling)
        while (waitpid(child, nullptr, WNOHANG) == 0) nap_ms(20);
    else
        waitpid(child, nullptr, 0);
    _exit(0);
}

int usage() {
    std::fprintf(stderr,
                 "usage: tree_maker exit N | signal N | echo TEXT | fds | sleep-forever | spin | "
                 "daemon | daemon-hang | hang-tree | nap MS | late-answer MS | shared-lock MS | wedge | "
                 "wedge-polling | flood BYTES stdout|stderr [then-wedge] | garbage [then-wedge] [--method M]\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return usage();
    std::string mode = argv[1];
    if (mode == "exit" && argc > 2) return std::atoi(argv[2]);
    if (mode == "signal" && argc > 2) {
        signal(std::atoi(argv[2]), SIG_DFL);
        raise(std::atoi(argv[2]));
        return 0;
    }
    if (mode == "echo" && argc > 2) {
        std::printf("out:%s\n", argv[2]);
        std::fprintf(stderr, "err:%s\n", argv[2]);
        return 0;
    }
    if (mode == "fds") {  // lists open descriptors: supervision must pass only 0, 1, 2
        for (int fd = 0; fd < 1024; ++fd)
            if (fcntl(fd, F_GETFD) != -1) std::printf("%d\n", fd);
        return 0;
    }
    if (mode == "own-proc") {  // prints whether /proc/<getpid()> is this very process
        char mine[PATH_MAX] = {}, named[PATH_MAX] = {};
        std::string by_pid = "/proc/" + std::to_string(getpid()) + "/exe";
        bool same = readlink("/proc/self/exe", mine, sizeof mine - 1) > 0 &&
                    readlink(by_pid.c_str(), named, sizeof named - 1) > 0 &&
                    std::strcmp(mine, named) == 0 && getpid() == getppid() + 1;
        std::printf("%s pid %d\n", same ? "same" : "different", static_cast<int>(getpid()));
        return 0;
    }
    if (mode == "ids") {  // the user and group the run sees itself as
        std::printf("uid %d gid %d\n", static_cast<int>(getuid()), static_cast<int>(getgid()));
        return 0;
    }
    if (mode == "sleep-forever") {
        report_pid();
        pause_forever();
    }
    if (mode == "spin") {
        report_pid();
        volatile unsigned long counter = 0;
        for (;;) {
            counter = counter + 1;
        }
    }
    if (mode == "daemon") {  // exits 0, leaving a daemon behind
        start_daemon();
        // Optionally only when the test says so, so it can see the daemon alive first.
        if (const char* release = std::getenv("HANGAR_TEST_RELEASE")) {
            int fd = open(release, O_RDONLY | O_CLOEXEC);
            char c;
            [[maybe_unused]] ssize_t n = read(fd, &c, 1);
        }
        return 0;
    }
    if (mode == "daemon-hang") {  // a daemon, and the command itself never ends
        start_daemon();
        report_pid();
        pause_forever();
    }
    if (mode == "hang-tree") {  // a parent waiting, untimed, for a child that never ends
        pid_t child = fork();
        if (child == 0) {
            report_pid();
            pause_forever();
        }
        report_pid();
        waitpid(child, nullptr, 0);
        return 0;
    }
    if (mode == "nap" && argc > 2) {  // a healthy run that sleeps, then passes
        nap_ms(std::atoi(argv[2]));
        return 0;
    }
    if (mode == "late-answer" && argc > 2) {  // a parent reading a pipe, a child answering late
        int p[2];
        if (pipe(p) != 0) return 1;
        if (fork() == 0) {
            nap_ms(std::atoi(argv[2]));
            [[maybe_unused]] ssize_t w = write(p[1], "x", 1);
            _exit(0);
        }
        char c;
        return read(p[0], &c, 1) == 1 ? 0 : 1;
    }
    if (mode == "shared-lock" && argc > 2) {  // a child waiting on a process-shared mutex
        auto* m = static_cast<pthread_mutex_t*>(
            mmap(nullptr, sizeof(pthread_mutex_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
        pthread_mutexattr_t attr;
        pthread_mutexattr_init(&attr);
        pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
        pthread_mutex_init(m, &attr);
        pthread_mutex_lock(m);
        pid_t child = fork();
        if (child == 0) {
            pthread_mutex_lock(m);  // blocks in a shared (non-private) futex wait
            pthread_mutex_unlock(m);
            _exit(0);
        }
        nap_ms(std::atoi(argv[2]));
        pthread_mutex_unlock(m);
        int status = 0;
        waitpid(child, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    }
    if (mode == "flood" && argc > 3) {  // BYTES to stdout or stderr, ending in a line "THE END", then exits
        FILE* to = std::string(argv[3]) == "stderr" ? stderr : stdout;
        long long left = std::atoll(argv[2]) - 8;
        static char line[4096];
        std::memset(line, 'x', sizeof line);
        line[sizeof line - 1] = '\n';
        for (; left > 0; left -= static_cast<long long>(sizeof line))
            std::fwrite(line, 1, static_cast<size_t>(std::min<long long>(left, sizeof line)), to);
        std::fputs("THE END\n", to);
        std::fflush(to);
        if (argc > 4 && std::string(argv[4]) == "then-wedge") return wedge(false);
        return 0;
    }
    if (mode == "garbage") {  // what real programs print: bytes that are not text, escapes, huge lines
        const char bytes[] = "\xff\xfe\xc0\xaf\xed\xa0\x80 \x1b[31mred\x1b[0m \x07 \x00 tail";
        std::fwrite(bytes, 1, sizeof bytes - 1, stdout);
        std::fprintf(stderr, "==1==ERROR: AddressSanitizer: heap-use-after-free \xff\xfe on address 0x1\n");
        std::fprintf(stderr, "    #0 0x4 in f\xc3\x28oo /src/\x1b[2Ja.c:1\n\n");
        std::fprintf(stderr, "SUMMARY: AddressSanitizer: heap-use-after-free \xff a.c:1 in f\n");
        std::string huge(100 * 1024, 'A');
        std::fprintf(stderr, "WARNING: ThreadSanitizer: data race %s\n", huge.c_str());
        std::fprintf(stderr, "%s runtime error: %s\n", huge.c_str(), huge.c_str());
        return argc > 2 ? wedge(false) : 0;
    }
    if (mode == "wedge") return wedge(false);
    if (mode == "wedge-polling") return wedge(true);
    return usage();
}
