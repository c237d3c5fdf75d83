// Reproduces: a child started while other threads enumerate passwd hangs in getpwent on glibc's enumeration lock.
// Seen in: Parsl issue #2343 (a forked Work Queue process stuck on a glibc NSS lock).
//
// Threads enumerate the passwd database (setpwent, getpwent until the end, endpwent) in a
// loop while the main thread starts one child, which enumerates too. Every step of an
// enumeration takes the static lock of nss/getXXent_r.c (and nss_files takes its own module
// lock while it reads /etc/passwd); fork() resets neither, so a child forked while a thread
// holds one waits forever on its copy. With two threads contending, one of them holds the
// lock almost all the time, but a loaded machine can deschedule both between two steps, so a
// run starts up to kAttempts children one after another and stops at the first that hangs.
#include "contention.hpp"
#include "start_method.hpp"

#include <nss.h>  // __nss_configure_lookup
#include <pwd.h>

#include <cstdio>

namespace {

constexpr int kEnumeratorThreads = 2;
// On a quiet 2-core machine the first child hangs (100 of 100 runs); 20 children make a miss
// unlikely even where only a third of them would hang.
constexpr int kAttempts = 20;

// Returns the number of entries; glibc keeps one enumeration position per process, so
// concurrent enumerators share it and each sees only part of the file.
int enumerate_passwd() {
    int entries = 0;
    setpwent();
    while (getpwent() != nullptr) ++entries;
    endpwent();
    return entries;
}

int child() {
    scenario::mark("child enumerating passwd");
    int entries = enumerate_passwd();
    std::fprintf(stderr, "child read %d passwd entries\n", entries);
    return entries > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    scenario::StartMethod start(argc, argv);
    // The same database on every machine: nsswitch.conf may add sss, ldap or systemd, whose
    // lookups take other locks and time; the hang here is the one nss_files and glibc share.
    if (__nss_configure_lookup("passwd", "files") != 0) {
        std::fprintf(stderr, "__nss_configure_lookup(passwd, files) failed\n");
        return 2;
    }
    if (start.is_child()) return child();
    int status = scenario::start_child_amid(
        kEnumeratorThreads, [] { return enumerate_passwd() >= 0; }, "enumerate passwd",
        [&] { return start.run_child(child); }, kAttempts);
    std::fprintf(stderr, "child exited with %d\n", status);
    return status == 0 ? 0 : 1;
}
