#include "child_exec.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hangar::detail {

void write_all(int fd, const void* data, size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        p += n;
        size -= static_cast<size_t>(n);
    }
}

void write_str(int fd, const char* s) { write_all(fd, s, strlen(s)); }

void close_all_except(const int* keep, int n) {
    unsigned int from = 0;
    for (int i = 0; i < n; ++i) {
        if (static_cast<unsigned int>(keep[i]) > from) close_range(from, keep[i] - 1, 0);
        from = keep[i] + 1;
    }
    close_range(from, ~0U, 0);
}

[[noreturn]] void exec_plan(const ExecPlan& p) {
    // Copies above 2 first: a source that is itself 0, 1 or 2 (a harness started with a
    // closed stdin, say) would otherwise be clobbered by the dup2 of another.
    int in = fcntl(p.stdin_fd, F_DUPFD, 3), out = fcntl(p.stdout_fd, F_DUPFD, 3),
        err = fcntl(p.stderr_fd, F_DUPFD, 3);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    close_range(3, ~0U, 0);
    // A core dump of a hung scenario killed for evidence would cost seconds and disk.
    struct rlimit no_core {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    // Signal state is inherited across exec; the command gets a clean one.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (p.drop_privileges) {
        // Nothing the command execs can gain privileges (setuid, file capabilities), and it
        // keeps none: no unmounting the run's /proc, no remounting the read-only view.
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        for (int cap = 0; cap <= 63; ++cap) prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
        __user_cap_data_struct data[2] = {};
        syscall(SYS_capset, &header, data);
    }
    execve(p.path, p.argv, p.envp);
    write_str(2, "hangar: cannot execute ");
    write_str(2, p.path);
    write_str(2, "\n");
    _exit(127);
}

pid_t vfork_clone(int (*entry)(void*), void* arg) {
    // The child runs on this stack while the caller is suspended; one per thread, since
    // harness threads start runs concurrently.
    alignas(16) static thread_local char stack[64 * 1024];
    return clone(entry, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, arg);
}

}  // namespace hangar::detail
