// Reproduces: a child started while other threads resolve names hangs in getaddrinfo on glibc's __check_pf lock.
// Seen in: openpbs PR #2299 (getaddrinfo lock inherited by a child) and Parsl issue #2343 (NSS lock in a forked process).
//
// Threads resolve "localhost" with AI_ADDRCONFIG in a loop; the main thread starts one child
// at a random moment and the child resolves too. AI_ADDRCONFIG makes glibc ask the kernel
// for the host's addresses in __check_pf (sysdeps/unix/sysv/linux/check_pf.c): a netlink
// round trip made under a static lock that fork() does not reset. If a resolver thread holds
// it at the fork, the child's getaddrinfo waits forever on its copy. Stochastic: one run
// starts one child, so one run gives one verdict.
#include "contention.hpp"
#include "start_method.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <cstdio>

namespace {

constexpr int kResolverThreads = 2;

bool resolve() {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;  // what reaches __check_pf (also the default for NULL hints)
    addrinfo* result = nullptr;
    int err = getaddrinfo("localhost", "80", &hints, &result);
    if (err != 0) {
        std::fprintf(stderr, "getaddrinfo(localhost): %s\n", gai_strerror(err));
        return false;
    }
    freeaddrinfo(result);
    return true;
}

int child() {
    scenario::mark("child resolving localhost with AI_ADDRCONFIG");
    if (!resolve()) return 1;
    scenario::mark("child resolved");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    scenario::StartMethod start(argc, argv);
    if (start.is_child()) return child();
    // Each resolution holds __check_pf's lock for a large share of its time.
    int status = scenario::start_child_amid(kResolverThreads, resolve, "resolve localhost",
                                            [&] { return start.run_child(child); });
    std::fprintf(stderr, "child exited with %d\n", status);
    return status == 0 ? 0 : 1;
}
