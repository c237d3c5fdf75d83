#include "hangar/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace hangar {

Status write_file_atomically(const std::filesystem::path& path, std::string_view content) {
    static std::atomic<unsigned> counter{0};
    auto tmp = path;
    tmp += ".tmp." + std::to_string(getpid()) + "." + std::to_string(counter++);
    int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return io_error("cannot write " + path.string() + ": " + std::strerror(errno));
    const char* p = content.data();
    size_t left = content.size();
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp.c_str());
            return io_error("cannot write " + path.string() + ": " + std::strerror(e));
        }
        p += n;
        left -= static_cast<size_t>(n);
    }
    // No fsync: rename already makes the swap atomic for every reader and against the
    // harness being killed; fsync would only add power-loss safety, at a cost per run.
    if (close(fd) != 0 || rename(tmp.c_str(), path.c_str()) != 0) {
        int e = errno;
        unlink(tmp.c_str());
        return io_error("cannot write " + path.string() + ": " + std::strerror(e));
    }
    return {};
}

Status check_writable_dir(const std::filesystem::path& dir) {
    std::error_code ec;
    // Create only what is missing, and remember the topmost folder we made so a failure
    // below it leaves nothing behind.
    std::filesystem::path first_created;
    for (auto p = std::filesystem::absolute(dir, ec); !p.empty() && !std::filesystem::exists(p, ec);
         p = p.parent_path()) {
        first_created = p;
        if (p == p.parent_path()) break;
    }
    if (!std::filesystem::create_directories(dir, ec) && ec)
        return error("cannot create output folder " + dir.string() + ": " + ec.message());
    if (!std::filesystem::is_directory(dir, ec)) return error("output path " + dir.string() + " is not a folder");
    if (access(dir.c_str(), W_OK | X_OK) != 0) {
        int e = errno;
        if (!first_created.empty()) std::filesystem::remove_all(first_created, ec);
        return error("cannot write to output folder " + dir.string() + ": " + std::strerror(e));
    }
    return {};
}

}  // namespace hangar
