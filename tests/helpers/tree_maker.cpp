// A stand-in for a scenario, for the harness's own tests: it builds the process shapes
// supervision must handle (daemons, hung trees, crashes) and reports its processes'
// PIDs, as the harness sees them, through the socket named by $HANGAR_TEST_PIDS.
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
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

// Stuck for good: an untimed private futex wait (a semaphore no one posts), with no lock
// owner to name. Signals interrupt sem_wait; it waits again.
[[noreturn]] void stuck_forever() {
    static sem_t never;
    sem_init(&never, 0, 0);
    for (;;) sem_wait(&never);
}

// More than a pipe holds: the write blocks once the pipe is full.
__attribute__((noinline)) void flood_pipe(int fd) {
    static char big[1 << 20];
    [[maybe_unused]] ssize_t n = write(fd, big, sizeof big);
}

// The pipe cycle of subprocess's wait() with stdout=PIPE: the child blocks writing a full
// pipe that only its parent reads, and the parent waits for the child without reading.
int pipe_cycle() {
    int p[2];
    if (pipe(p) != 0) return 1;
    pid_t child = fork();
    if (child == 0) {
        close(p[0]);
        flood_pipe(p[1]);
        _exit(0);
    }
    close(p[1]);
    waitpid(child, nullptr, 0);
    return 0;
}

// Healthy: a child reads a pipe whose writer, its parent, sleeps `ms` before it writes.
int sleeping_writer(int ms) {
    int p[2];
    if (pipe(p) != 0) return 1;
    pid_t child = fork();
    if (child == 0) {
        close(p[1]);
        char c;
        _exit(read(p[0], &c, 1) == 1 ? 0 : 1);
    }
    close(p[0]);
    nap_ms(ms);
    if (write(p[1], "x", 1) != 1) return 1;
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

// A parent polls the pipe of a child stuck for good, with a timeout of `ms`; when it
// expires the parent kills the child and passes (subprocess's communicate(timeout)). With a
// timeout past the run's limit nothing can act before it: a deadlock.
int poll_then_act(int ms) {
    int p[2];
    if (pipe(p) != 0) return 1;
    pid_t child = fork();
    if (child == 0) {
        close(p[0]);
        stuck_forever();
    }
    close(p[1]);
    pollfd fd{p[0], POLLIN, 0};
    if (poll(&fd, 1, ms) != 0) return 1;  // the child never writes
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    return 0;
}

// A watchdog thread kills a snapshot child that makes no progress for 300 ms, and the
// snapshot is taken again: the first child is stuck for good, the second one works
// (logcabin's snapshot watchdog). The run passes.
int watchdog_restart() {
    static std::mutex m;
    static pid_t watched = 0;
    static auto last = std::chrono::steady_clock::now();
    std::thread([] {
        for (;;) {
            nap_ms(50);
            std::lock_guard g(m);
            if (watched > 0 && std::chrono::steady_clock::now() - last > std::chrono::milliseconds(300)) {
                kill(watched, SIGKILL);
                watched = 0;
            }
        }
    }).detach();
    for (int attempt = 1; attempt <= 3; ++attempt) {
        int p[2];
        if (pipe(p) != 0) return 1;
        pid_t child = fork();
        if (child == 0) {
            close(p[0]);
            if (attempt == 1) stuck_forever();
            _exit(write(p[1], "done", 4) == 4 ? 0 : 1);
        }
        close(p[1]);
        {
            std::lock_guard g(m);
            watched = child;
            last = std::chrono::steady_clock::now();
        }
        char buf[16];
        while (read(p[0], buf, sizeof buf) > 0) {
        }
        close(p[0]);
        {
            std::lock_guard g(m);
            watched = 0;
        }
        int status = 0;
        waitpid(child, &status, 0);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    }
    return 1;
}

void on_alarm(int) {}

void arm_alarm(int ms) {
    itimerval t{};
    t.it_value.tv_sec = ms / 1000;
    t.it_value.tv_usec = (ms % 1000) * 1000;
    setitimer(ITIMER_REAL, &t, nullptr);
}

// A wait on a lock that nothing will release, which SIGALRM breaks after `ms` (a
// handler, no SA_RESTART: sem_wait fails with EINTR); the program gives up and passes.
// With 0 the handler is there but no alarm is armed: nothing can end the wait.
int alarm_lock(int ms) {
    struct sigaction sa{};
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, nullptr);
    if (ms > 0) arm_alarm(ms);
    static sem_t never;
    sem_init(&never, 0, 0);
    return sem_wait(&never) == -1 && errno == EINTR ? 0 : 1;
}

// A child waits on a lock forever with an alarm armed and SIGALRM's default action: the
// alarm kills it after `ms`, and its parent, waiting for it, passes.
int alarm_kill(int ms) {
    pid_t child = fork();
    if (child == 0) {
        arm_alarm(ms);
        stuck_forever();
    }
    int status = 0;
    waitpid(child, &status, 0);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ? 0 : 1;
}

// A client whose server is stuck for good: with SO_RCVTIMEO of `ms` its recv fails with
// EAGAIN, it kills the server and passes; with 0 it waits forever on a peer that is stuck.
int rcvtimeo(int ms) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 1;
    pid_t server = fork();
    if (server == 0) {
        close(sv[0]);
        char req[8];
        if (read(sv[1], req, sizeof req) <= 0) _exit(1);
        stuck_forever();  // never answers
    }
    close(sv[1]);
    if (ms > 0) {
        timeval limit{ms / 1000, (ms % 1000) * 1000};
        setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    }
    if (write(sv[0], "ping", 4) != 4) return 1;
    char reply[8];
    if (recv(sv[0], reply, sizeof reply, 0) >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return 1;
    kill(server, SIGKILL);
    waitpid(server, nullptr, 0);
    return 0;
}

// A parent locks a file (flock, or a POSIX lock with `posix`) and starts a child that
// opens the file anew and asks for the same lock. With `ms` < 0 the parent then waits
// for the child: a deadlock (the child waits for the parent's lock, the parent for the
// child). Otherwise it releases the lock after `ms` ms (sleeping first), and both end.
int file_lock(bool posix, int ms) {
    char path[] = "/tmp/tree_maker_lock.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 1;
    struct flock whole{};
    whole.l_type = F_WRLCK;
    whole.l_whence = SEEK_SET;
    auto lock = [&](int f) { return posix ? fcntl(f, F_SETLKW, &whole) : flock(f, LOCK_EX); };
    if (lock(fd) != 0) return 1;
    pid_t child = fork();
    if (child == 0) {
        int mine = open(path, O_RDWR);
        _exit(mine >= 0 && lock(mine) == 0 ? 0 : 1);
    }
    if (ms >= 0) {
        nap_ms(ms);
        whole.l_type = F_UNLCK;
        if (posix ? fcntl(fd, F_SETLK, &whole) : flock(fd, LOCK_UN)) return 1;
    }
    int status = 0;
    waitpid(child, &status, 0);
    unlink(path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

// A forked child takes a mutex that a thread of its parent held at fork, with
// pthread_mutex_timedlock and a deadline `ms` away (CLOCK_REALTIME, absolute): at the
// deadline it gives up and exits 0. A deadline past the run's limit: a timeout proven early.
int timed_lock(int ms) {
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    int held[2], never[2];
    if (pipe(held) != 0 || pipe(never) != 0) return 1;
    std::thread holder([&] {
        pthread_mutex_lock(&lock);
        char c = 1;
        [[maybe_unused]] ssize_t w = write(held[1], &c, 1);
        [[maybe_unused]] ssize_t r = read(never[0], &c, 1);
    });
    holder.detach();
    char c;
    if (read(held[0], &c, 1) != 1) return 1;
    pid_t child = fork();
    if (child == 0) {
        timespec until{};
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += ms / 1000;
        until.tv_nsec += (ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec += 1;
            until.tv_nsec -= 1000000000L;
        }
        _exit(pthread_mutex_timedlock(&lock, &until) == ETIMEDOUT ? 0 : 1);
    }
    int status = 0;
    waitpid(child, &status, 0);
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

// One process, two threads, a cycle through a lock and a pipe (RedisGears #50): main holds
// the lock and writes more than the pipe holds; the thread draining the pipe takes the
// lock for each message.
pthread_mutex_t cycle_lock = PTHREAD_MUTEX_INITIALIZER;
int cycle_pipe[2];

void* drain_pipe(void*) {
    char msg[4096];
    while (read(cycle_pipe[0], msg, sizeof msg) > 0) {
        pthread_mutex_lock(&cycle_lock);
        pthread_mutex_unlock(&cycle_lock);
    }
    return nullptr;
}

int lock_pipe_cycle() {
    if (pipe(cycle_pipe) != 0) return 1;
    pthread_mutex_lock(&cycle_lock);
    pthread_t t;
    pthread_create(&t, nullptr, drain_pipe, nullptr);
    static char msg[4096];
    for (int i = 0; i < 64; ++i)
        if (write(cycle_pipe[1], msg, sizeof msg) != static_cast<ssize_t>(sizeof msg)) return 1;
    return 0;
}

int usage() {
    std::fprintf(stderr,
                 "usage: tree_maker exit N | signal N | echo TEXT | fds | sleep-forever | spin | "
                 "daemon | daemon-hang | hang-tree | nap MS | late-answer MS | shared-lock MS | wedge | "
                 "wedge-polling | flood BYTES stdout|stderr [then-wedge] | garbage [then-wedge] | pipe-cycle | "
                 "sleeping-writer MS | poll-then-act MS | watchdog-restart | alarm-lock MS | alarm-kill MS | "
                 "rcvtimeo MS | timed-lock MS | flock MS | posix-lock MS | lock-pipe-cycle [--method M]\n");
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
    // The wait-for graph's classes: each hang, and its healthy twin (tests/stall_test.cpp).
    if (mode == "pipe-cycle") return pipe_cycle();
    if (mode == "sleeping-writer" && argc > 2) return sleeping_writer(std::atoi(argv[2]));
    if (mode == "poll-then-act" && argc > 2) return poll_then_act(std::atoi(argv[2]));
    if (mode == "watchdog-restart") return watchdog_restart();
    if (mode == "alarm-lock" && argc > 2) return alarm_lock(std::atoi(argv[2]));
    if (mode == "alarm-kill" && argc > 2) return alarm_kill(std::atoi(argv[2]));
    if (mode == "rcvtimeo" && argc > 2) return rcvtimeo(std::atoi(argv[2]));
    if (mode == "timed-lock" && argc > 2) return timed_lock(std::atoi(argv[2]));
    if (mode == "flock" && argc > 2) return file_lock(false, std::atoi(argv[2]));
    if (mode == "posix-lock" && argc > 2) return file_lock(true, std::atoi(argv[2]));
    if (mode == "lock-pipe-cycle") return lock_pipe_cycle();
    if (mode == "wedge") return wedge(false);
    if (mode == "wedge-polling") return wedge(true);
    return usage();
}
