#include "hangar/text_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace hangar {

// Plain read(2), not a stream: reading /proc/PID/... of a process that just exited fails
// with ESRCH, which libstdc++'s filebuf turns into an exception. Here it ends the text.
std::string read_text(const std::filesystem::path& file, size_t limit) {
    std::string text;
    int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return text;
    char buf[16384];
    while (text.size() < limit) {
        ssize_t n = read(fd, buf, std::min(sizeof buf, limit - text.size()));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text.append(buf, static_cast<size_t>(n));
    }
    close(fd);
    return text;
}

int count_in_file(const std::filesystem::path& file, std::string_view needle) {
    if (needle.empty()) return 0;
    int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char buf[1 << 16];
    std::string text;  // a chunk, plus the tail of the last one shorter than the needle
    int count = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text.append(buf, static_cast<size_t>(n));
        for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + needle.size()))
            ++count;
        // Keep a tail shorter than the needle, so a match split across chunks is seen once.
        text.erase(0, text.size() >= needle.size() ? text.size() - needle.size() + 1 : 0);
    }
    close(fd);
    return count;
}

}  // namespace hangar
