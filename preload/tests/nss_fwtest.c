// libnss_fwtest.so.2: a `hosts` source for glibc's name service switch, for the tests only.
// After fwtest_configure, a lookup in the configuring process announces itself on one pipe
// and waits on another: a thread is then inside getaddrinfo for as long as the test wants,
// without network or timing. In any other process (a forked child) it answers "not found"
// at once.
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <nss.h>
#include <unistd.h>

static int entered_fd = -1, leave_fd = -1;
static pid_t owner;

__attribute__((visibility("default"))) void fwtest_configure(int entered, int leave) {
    entered_fd = entered;
    leave_fd = leave;
    owner = getpid();
}

static enum nss_status lookup(int* errnop, int* herrnop) {
    if (getpid() == owner && entered_fd >= 0) {
        char c = 1;
        if (write(entered_fd, &c, 1) == 1)
            while (read(leave_fd, &c, 1) < 0 && errno == EINTR) {
            }
    }
    *errnop = ENOENT;
    *herrnop = HOST_NOT_FOUND;
    return NSS_STATUS_NOTFOUND;
}

__attribute__((visibility("default"))) enum nss_status _nss_fwtest_gethostbyname4_r(
    const char* name, struct gaih_addrtuple** pat, char* buffer, size_t buflen, int* errnop,
    int* herrnop, int32_t* ttlp) {
    (void)name, (void)pat, (void)buffer, (void)buflen, (void)ttlp;
    return lookup(errnop, herrnop);
}

__attribute__((visibility("default"))) enum nss_status _nss_fwtest_gethostbyname2_r(
    const char* name, int af, struct hostent* result, char* buffer, size_t buflen, int* errnop,
    int* herrnop) {
    (void)name, (void)af, (void)result, (void)buffer, (void)buflen;
    return lookup(errnop, herrnop);
}
