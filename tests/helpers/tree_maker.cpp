// A stand-in for a scenario, for the harness's own tests: it builds the process shapes
// supervision must handle (daemons, hung trees, crashes) and reports its processes'
// PIDs, as the harness sees them, through the FIFO named by $HANGAR_TEST_FIFO.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

// /proc/self names this process in the proc mount's namespace, the harness's, even from
// inside the run's own PID namespace, where getpid() would give the inner number.
long outer_pid() {
    char buf[32] = {};
    ssize_t n = readlink("/proc/self", buf, sizeof buf - 1);
    return n > 0 ? std::strtol(buf, nullptr, 10) : -1;
}

void report_pid() {
    const char* fifo = std::getenv("HANGAR_TEST_FIFO");
    if (!fifo) return;
    int fd = open(fifo, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return;
    std::string line = std::to_string(outer_pid()) + "\n";
    [[maybe_unused]] ssize_t n = write(fd, line.data(), line.size());
    close(fd);
}

[[noreturn]] void pause_forever() {
    for (;;) pause();
}

// Double fork and setsid: the classic daemon, no longer in the run's process group or
// session and reparented away from the command.
void start_daemon() {
    pid_t child = fork();
    if (child == 0) {
        setsid();
        if (fork() == 0) {
            report_pid();
            pause_forever();
        }
        _exit(0);
    }
    waitpid(child, nullptr, 0);
}

int usage() {
    std::fprintf(stderr,
                 "usage: tree_maker exit N | signal N | echo TEXT | fds | sleep-forever | spin | "
                 "daemon | daemon-hang | hang-tree [--method M]\n");
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
    if (mode == "daemon") {  // exits 0 at once, leaving a daemon behind
        start_daemon();
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
    return usage();
}
