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

}  // namespace hangar
