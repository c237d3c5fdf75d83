// Reproduces: a child forked while a thread is inside a slow NSS lookup (sssd, nss_ldap) hangs in its own lookup.
// Seen in: Parsl issue #2343 (a forked Work Queue process stuck in a glibc NSS lookup).
//
// Deterministic. passwd is switched at run time to libnss_hangarslow.so.2 (built beside this
// binary), whose lookup holds a module mutex during a one-second "server round trip". A
// thread looks a user up; as soon as the module says the thread is inside, the main thread
// starts the child, which calls getpwnam. Under fork the child's copy of the mutex is locked
// by a thread the child does not have, so the lookup waits forever, every time.
#include "start_method.hpp"

#include <dlfcn.h>
#include <nss.h>  // __nss_configure_lookup: overrides /etc/nsswitch.conf for one database
#include <pwd.h>
#include <unistd.h>

#include <array>
#include <climits>
#include <cstdio>
#include <string>
#include <thread>

namespace {

constexpr const char* kModuleFile = "libnss_hangarslow.so.2";
constexpr const char* kUser = "hangar-remote";

using WaitForLookup = void (*)();
WaitForLookup wait_for_lookup = nullptr;

// Makes passwd lookups go to the hangarslow module, in this process only. glibc 2.36
// (nss/nss_module.c, module_load) loads a service with __libc_dlopen of the bare name
// "libnss_<service>.so.2", searched for along LD_LIBRARY_PATH, ld.so.cache and the system
// directories only: the DT_RUNPATH that linkers write today serves only the calling
// object's own dlopen, and the caller there is libc. But before searching, the loader
// compares the name with every object already loaded, DT_SONAME included (elf/dl-load.c,
// _dl_map_object). So the module is dlopen()ed here by its absolute path beside this
// binary; its soname is libnss_hangarslow.so.2, and NSS then reuses that very copy (LD_DEBUG
// shows a second open of the same file, no search): no LD_LIBRARY_PATH, nothing installed.
// The same handle gives the scenario the module's hangarslow_wait_for_lookup.
bool use_module() {
    char exe[PATH_MAX];
    ssize_t size = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (size < 0) {
        std::perror("readlink /proc/self/exe");
        return false;
    }
    std::string path(exe, static_cast<size_t>(size));
    path = path.substr(0, path.rfind('/') + 1) + kModuleFile;
    void* module = dlopen(path.c_str(), RTLD_NOW);
    if (module == nullptr) {
        std::fprintf(stderr, "dlopen: %s\n", dlerror());
        return false;
    }
    wait_for_lookup = reinterpret_cast<WaitForLookup>(dlsym(module, "hangarslow_wait_for_lookup"));
    if (wait_for_lookup == nullptr) {
        std::fprintf(stderr, "dlsym hangarslow_wait_for_lookup: %s\n", dlerror());
        return false;
    }
    if (__nss_configure_lookup("passwd", "hangarslow") != 0) {
        std::fprintf(stderr, "__nss_configure_lookup(passwd, hangarslow) failed\n");
        return false;
    }
    return true;
}

int child() {
    scenario::mark("child looking up hangar-remote with getpwnam");
    passwd* entry = getpwnam(kUser);
    if (entry == nullptr) {
        std::fprintf(stderr, "getpwnam(%s) found nothing\n", kUser);
        return 1;
    }
    scenario::mark("child found hangar-remote");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    scenario::StartMethod start(argc, argv);
    // In every process that looks up: the parent, and a spawn or forkserver child, which
    // does not inherit the parent's setup (a fork child does).
    if (!use_module()) return 1;
    if (start.is_child()) return child();

    // getpwnam_r, not getpwnam: getpwnam also takes glibc's lock for its static buffer
    // (nss/getXXbyYY.c), and the child must block on the module's mutex, not on that.
    std::thread lookup([] {
        passwd entry;
        passwd* found = nullptr;
        std::array<char, 1024> buffer;
        getpwnam_r(kUser, &entry, buffer.data(), buffer.size(), &found);
    });
    wait_for_lookup();
    scenario::mark("starting the child while a thread is inside the hangarslow lookup");
    int status = start.run_child(child);
    lookup.join();
    std::fprintf(stderr, "child exited with %d\n", status);
    return status == 0 ? 0 : 1;
}
