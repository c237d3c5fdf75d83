// For the stand-ins of tests/helpers: tell the test this process is alive, with one datagram
// to the socket named by $HANGAR_TEST_PIDS; the receiver learns our PID, in its own
// namespace, from the credentials the kernel attaches.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

inline void report_pid() {
    const char* path = std::getenv("HANGAR_TEST_PIDS");
    if (!path) return;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
    [[maybe_unused]] ssize_t n = sendto(fd, "p", 1, 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    close(fd);
}
