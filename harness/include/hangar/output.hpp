// What a run prints, taken in through pipes and kept within a limit: whatever a program
// writes, hangar's disk and memory use stay bounded, and what is kept is its first and
// last bytes, with the cut said where it was made.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "hangar/result.hpp"

namespace hangar {

// One stream (stdout or stderr) of one run: the first half of `limit` goes to `file` as it
// arrives; after that the last half is kept in a ring file beside it, and when the stream
// ends the file gets a line saying how much was cut, then the ring's bytes in order.
class StreamCapture {
public:
    StreamCapture(std::filesystem::path file, uint64_t limit, std::string_view marker);
    ~StreamCapture();
    StreamCapture(const StreamCapture&) = delete;
    StreamCapture& operator=(const StreamCapture&) = delete;

    Status open();             // the file and the pipe
    int read_fd() const { return read_fd_; }
    int take_write_fd();       // for the command; the caller closes it once the command has it

    // Reads what the pipe holds now without waiting; false once the stream has ended.
    bool pump();
    // Writes the cut line and the ring's bytes, and removes the ring file. Idempotent.
    void close_file();

    uint64_t total() const { return total_; }    // bytes the program wrote
    bool cut() const { return total_ > limit_; }
    int markers() const { return markers_; }     // occurrences of the marker, cut or not
    // The last `bytes` bytes written so far, as far as they are kept.
    std::string tail(size_t bytes) const;
    // What was written from stream offset `offset` on, as far as it is kept.
    std::string since(uint64_t offset) const;

private:
    void take_in(const char* data, size_t n);
    std::string read_kept(uint64_t from, uint64_t to) const;  // stream offsets, within what is kept

    std::filesystem::path file_, ring_file_;
    uint64_t limit_, head_limit_, ring_size_;
    std::string marker_, carry_;  // carry: the last bytes, for a marker split across reads
    int file_fd_ = -1, ring_fd_ = -1, read_fd_ = -1, write_fd_ = -1;
    uint64_t total_ = 0;
    int markers_ = 0;
    bool ended_ = false, closed_ = false;
};

// Both streams of a run, drained by a thread of their own from launch to the end, so a
// program never blocks on a full pipe while hangar waits, samples or takes evidence.
class RunOutput {
public:
    // `limit`: bytes kept per stream. `marker`: a line a program prints that hangar counts
    // (HANGAR-WORKFLOW-START), counted in the whole stream, cut or not.
    static Result<std::unique_ptr<RunOutput>> start(const std::filesystem::path& stdout_file,
                                                     const std::filesystem::path& stderr_file, uint64_t limit,
                                                     std::string_view marker);
    ~RunOutput();

    // The write ends, for the command; hand them over, then call launched().
    int stdout_fd() const { return out_write_; }
    int stderr_fd() const { return err_write_; }
    void launched();  // closes our copies of the write ends: the stream ends with the tree

    // Takes in what the pipes hold now, so that what a process wrote before it stopped is
    // readable below (a faulthandler dump, say).
    void sync();
    uint64_t stderr_total() const;
    std::string stderr_since(uint64_t offset) const;
    std::string tail(bool stderr_stream, size_t bytes) const;

    // Once the tree is gone: waits up to `limit` for both streams to end, then finishes
    // both files. The counts are final after this.
    void finish(std::chrono::milliseconds limit);

    const StreamCapture& out() const { return out_; }
    const StreamCapture& err() const { return err_; }

private:
    RunOutput(const std::filesystem::path& stdout_file, const std::filesystem::path& stderr_file, uint64_t limit,
              std::string_view marker);
    void drain_loop();

    StreamCapture out_, err_;
    int out_write_ = -1, err_write_ = -1;
    int stop_fd_ = -1;  // an eventfd that ends the thread
    mutable std::mutex mutex_;  // guards out_ and err_
    std::thread thread_;
};

}  // namespace hangar
