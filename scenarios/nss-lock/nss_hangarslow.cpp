// Reproduces: an NSS client library that holds its own mutex across a slow server round trip (sssd, nss_ldap).
// Seen in: Parsl issue #2343 (a forked process stuck in a glibc NSS lookup); the sss/ldap clients serialise requests this way.
//
// libnss_hangarslow.so.2: a passwd source for glibc's name service switch that knows one
// user, kUser. Like a client of a directory server it keeps one connection per process,
// guarded by a module-level mutex, and holds that mutex for the whole request: here the
// "round trip" is a sleep of kRoundTrip. fork() copies the mutex as it is; a child forked
// while a thread is inside a lookup finds it locked by a thread it does not have.
#include <nss.h>
#include <pthread.h>
#include <pwd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>
#include <thread>

#define HANGARSLOW_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

constexpr std::string_view kUser = "hangar-remote";
constexpr uid_t kUid = 64242;
// The slow "network" round trip. It only widens the window: the scenario forks as soon as
// a lookup has entered, which happens well inside it.
constexpr auto kRoundTrip = std::chrono::seconds(1);

pthread_mutex_t connection_lock = PTHREAD_MUTEX_INITIALIZER;
std::atomic<unsigned> lookups_entered = 0;

// Copies `text` into the caller's buffer; nullptr if it does not fit.
char* put(std::string_view text, char*& buffer, size_t& left) {
    if (left < text.size() + 1) return nullptr;
    char* start = buffer;
    std::memcpy(start, text.data(), text.size());
    start[text.size()] = '\0';
    buffer += text.size() + 1;
    left -= text.size() + 1;
    return start;
}

}  // namespace

// Returns once some thread has entered a lookup and holds the module's mutex; the lookup
// then stays inside for kRoundTrip. Not part of NSS: the scenario finds it with dlsym.
HANGARSLOW_EXPORT void hangarslow_wait_for_lookup() {
    lookups_entered.wait(0);
}

HANGARSLOW_EXPORT nss_status _nss_hangarslow_getpwnam_r(const char* name, passwd* result,
                                                        char* buffer, size_t buflen,
                                                        int* errnop) {
    pthread_mutex_lock(&connection_lock);
    lookups_entered.fetch_add(1);
    lookups_entered.notify_all();
    std::this_thread::sleep_for(kRoundTrip);  // request sent, waiting for the server's answer
    pthread_mutex_unlock(&connection_lock);

    if (name != kUser) return NSS_STATUS_NOTFOUND;
    result->pw_name = put(kUser, buffer, buflen);
    result->pw_passwd = put("x", buffer, buflen);
    result->pw_gecos = put("hangar test user", buffer, buflen);
    result->pw_dir = put("/nonexistent", buffer, buflen);
    result->pw_shell = put("/usr/sbin/nologin", buffer, buflen);
    if (!result->pw_name || !result->pw_passwd || !result->pw_gecos || !result->pw_dir ||
        !result->pw_shell) {
        *errnop = ERANGE;  // glibc retries with a larger buffer
        return NSS_STATUS_TRYAGAIN;
    }
    result->pw_uid = kUid;
    result->pw_gid = kUid;
    return NSS_STATUS_SUCCESS;
}
