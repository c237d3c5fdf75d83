#include "hangar/output.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace hangar {
namespace {

// A larger pipe than Linux's 64 KiB default, so a program's bursts rarely wait on hangar.
constexpr int kPipeSize = 256 * 1024;
constexpr size_t kChunk = 64 * 1024;

void write_all(int fd, const char* data, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, data, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;  // a full disk loses output, not the run
        data += w;
        n -= static_cast<size_t>(w);
    }
}

void pwrite_all(int fd, const char* data, size_t n, uint64_t at) {
    while (n > 0) {
        ssize_t w = pwrite(fd, data, n, static_cast<off_t>(at));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        data += w;
        at += static_cast<uint64_t>(w);
        n -= static_cast<size_t>(w);
    }
}

std::string pread_all(int fd, uint64_t at, size_t n) {
    std::string out(n, '\0');
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, out.data() + done, n - done, static_cast<off_t>(at + done));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        done += static_cast<size_t>(r);
    }
    out.resize(done);
    return out;
}

void close_fd(int& fd) {
    if (fd >= 0) close(fd);
    fd = -1;
}

}  // namespace

StreamCapture::StreamCapture(std::filesystem::path file, uint64_t limit, std::string_view marker)
    : file_(std::move(file)),
      limit_(std::max<uint64_t>(limit, 2)),
      head_limit_(limit_ / 2),
      ring_size_(limit_ - limit_ / 2),
      marker_(marker) {
    ring_file_ = file_;
    ring_file_ += ".tail";
}

StreamCapture::~StreamCapture() {
    close_file();
    close_fd(read_fd_);
    close_fd(write_fd_);
}

Status StreamCapture::open() {
    file_fd_ = ::open(file_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (file_fd_ < 0) return io_error("cannot create " + file_.string() + ": " + std::strerror(errno));
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return io_error(std::string("cannot create a pipe: ") + std::strerror(errno));
    read_fd_ = fds[0];
    write_fd_ = fds[1];
    fcntl(read_fd_, F_SETFL, O_NONBLOCK);
    fcntl(read_fd_, F_SETPIPE_SZ, kPipeSize);  // best effort
    return {};
}

int StreamCapture::take_write_fd() { return std::exchange(write_fd_, -1); }

void StreamCapture::take_in(const char* data, size_t n) {
    if (!marker_.empty()) {
        carry_.append(data, n);
        for (size_t p = carry_.find(marker_); p != std::string::npos; p = carry_.find(marker_, p + marker_.size()))
            ++markers_;
        // Keep fewer bytes than the marker, so a marker split across reads is counted once.
        if (carry_.size() >= marker_.size()) carry_.erase(0, carry_.size() - marker_.size() + 1);
    }
    while (n > 0) {
        size_t k;
        if (total_ < head_limit_) {
            k = static_cast<size_t>(std::min<uint64_t>(n, head_limit_ - total_));
            write_all(file_fd_, data, k);
        } else {
            if (ring_fd_ < 0) ring_fd_ = ::open(ring_file_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            const uint64_t pos = (total_ - head_limit_) % ring_size_;
            k = static_cast<size_t>(std::min<uint64_t>(n, ring_size_ - pos));
            if (ring_fd_ >= 0) pwrite_all(ring_fd_, data, k, pos);
        }
        total_ += k;
        data += k;
        n -= k;
    }
}

bool StreamCapture::pump() {
    if (ended_ || read_fd_ < 0) return false;
    char buf[kChunk];
    for (;;) {
        ssize_t n = read(read_fd_, buf, sizeof buf);
        if (n > 0) {
            take_in(buf, static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return true;
        ended_ = true;  // end of stream (or an error, which ends it as well)
        return false;
    }
}

std::string StreamCapture::read_kept(uint64_t from, uint64_t to) const {
    std::string out;
    if (from < std::min(to, head_limit_) && file_fd_ >= 0) {
        const uint64_t end = std::min(to, head_limit_);
        out += pread_all(file_fd_, from, static_cast<size_t>(end - from));
        from = end;
    }
    if (from >= to || ring_fd_ < 0) return out;
    const uint64_t ring_start = total_ > head_limit_ + ring_size_ ? total_ - ring_size_ : head_limit_;
    if (from < ring_start) {
        out += "\n[hangar: output cut here]\n";
        from = ring_start;
    }
    while (from < to) {
        const uint64_t pos = (from - head_limit_) % ring_size_;
        const uint64_t k = std::min(to - from, ring_size_ - pos);
        out += pread_all(ring_fd_, pos, static_cast<size_t>(k));
        from += k;
    }
    return out;
}

std::string StreamCapture::tail(size_t bytes) const {
    uint64_t from = total_ > bytes ? total_ - bytes : 0;
    if (cut()) from = std::max(from, total_ - ring_size_);
    return read_kept(from, total_);
}

std::string StreamCapture::since(uint64_t offset) const { return offset >= total_ ? "" : read_kept(offset, total_); }

void StreamCapture::close_file() {
    if (closed_ || file_fd_ < 0) return;
    closed_ = true;
    if (cut()) {
        const uint64_t ring_start = total_ - ring_size_;
        const std::string note = "\n[hangar: " + std::to_string(ring_start - head_limit_) +
                                 " bytes cut here: the stream was " + std::to_string(total_) +
                                 " bytes; kept the first " + std::to_string(head_limit_) + " and the last " +
                                 std::to_string(ring_size_) + " (--max-output)]\n";
        write_all(file_fd_, note.data(), note.size());
        for (uint64_t from = ring_start; from < total_;) {
            const uint64_t k = std::min<uint64_t>(total_ - from, kChunk);
            const std::string part = read_kept(from, from + k);
            write_all(file_fd_, part.data(), part.size());
            from += k;
        }
    }
    if (ring_fd_ >= 0) {
        close_fd(ring_fd_);
        unlink(ring_file_.c_str());
    }
    close_fd(file_fd_);
}

RunOutput::RunOutput(const std::filesystem::path& stdout_file, const std::filesystem::path& stderr_file,
                     uint64_t limit, std::string_view marker)
    : out_(stdout_file, limit, marker), err_(stderr_file, limit, marker) {}

Result<std::unique_ptr<RunOutput>> RunOutput::start(const std::filesystem::path& stdout_file,
                                                    const std::filesystem::path& stderr_file, uint64_t limit,
                                                    std::string_view marker) {
    std::unique_ptr<RunOutput> output(new RunOutput(stdout_file, stderr_file, limit, marker));
    if (auto s = output->out_.open(); !s) return s.error();
    if (auto s = output->err_.open(); !s) return s.error();
    output->out_write_ = output->out_.take_write_fd();
    output->err_write_ = output->err_.take_write_fd();
    output->stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (output->stop_fd_ < 0) return io_error(std::string("cannot create an eventfd: ") + std::strerror(errno));
    output->thread_ = std::thread([o = output.get()] { o->drain_loop(); });
    return output;
}

RunOutput::~RunOutput() {
    if (thread_.joinable()) {
        uint64_t one = 1;
        [[maybe_unused]] ssize_t n = write(stop_fd_, &one, sizeof one);
        thread_.join();
    }
    close_fd(out_write_);
    close_fd(err_write_);
    close_fd(stop_fd_);
}

void RunOutput::launched() {
    close_fd(out_write_);
    close_fd(err_write_);
}

void RunOutput::drain_loop() {
    bool out_open = true, err_open = true;
    while (out_open || err_open) {
        pollfd fds[3] = {{out_open ? out_.read_fd() : -1, POLLIN, 0},
                         {err_open ? err_.read_fd() : -1, POLLIN, 0},
                         {stop_fd_, POLLIN, 0}};
        if (poll(fds, 3, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (fds[2].revents) return;
        std::lock_guard lock(mutex_);
        if (fds[0].revents) out_open = out_.pump();
        if (fds[1].revents) err_open = err_.pump();
    }
}

void RunOutput::sync() {
    std::lock_guard lock(mutex_);
    out_.pump();
    err_.pump();
}

uint64_t RunOutput::stderr_total() const {
    std::lock_guard lock(mutex_);
    return err_.total();
}

std::string RunOutput::stderr_since(uint64_t offset) const {
    std::lock_guard lock(mutex_);
    return err_.since(offset);
}

std::string RunOutput::tail(bool stderr_stream, size_t bytes) const {
    std::lock_guard lock(mutex_);
    return (stderr_stream ? err_ : out_).tail(bytes);
}

void RunOutput::finish(std::chrono::milliseconds limit) {
    if (thread_.joinable()) {
        // The thread ends by itself once both streams end; past the limit (a write end held
        // where it should not be), it is stopped and what is there is kept.
        const auto deadline = std::chrono::steady_clock::now() + limit;
        for (;;) {
            {
                std::lock_guard lock(mutex_);
                const bool out_open = out_.pump(), err_open = err_.pump();
                if (!out_open && !err_open) break;
            }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) break;
            pollfd fds[2] = {{out_.read_fd(), POLLIN, 0}, {err_.read_fd(), POLLIN, 0}};
            poll(fds, 2, static_cast<int>(std::min<long>(left.count(), 100)));
        }
        uint64_t one = 1;
        [[maybe_unused]] ssize_t n = write(stop_fd_, &one, sizeof one);
        thread_.join();
    }
    std::lock_guard lock(mutex_);
    out_.close_file();
    err_.close_file();
}

}  // namespace hangar
