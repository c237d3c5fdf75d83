// A cancel request as a readable fd, so a supervisor blocked in poll() ends its tree at
// once; SIGINT and SIGTERM are routed to one, so the harness still writes the results
// of the runs that finished.
#pragma once

#include <atomic>

namespace hangar {

class Interrupt {
public:
    Interrupt();
    ~Interrupt();
    Interrupt(const Interrupt&) = delete;
    Interrupt& operator=(const Interrupt&) = delete;

    // The process-wide Interrupt that SIGINT and SIGTERM trigger; installs the handlers
    // on first use.
    static Interrupt& on_signals();
    // That one, once installed; else null. Waits of hangar's own that have no other way to
    // hear of an interrupt (a helper, a reaper's answer) end on it.
    static const Interrupt* installed();

    int fd() const { return fd_; }  // readable once requested
    bool requested() const { return signal_number() != 0; }
    int signal_number() const { return signal_.load(); }  // the first request's signal

    // Async-signal-safe.
    void request(int signal_number) noexcept;

private:
    int fd_;
    std::atomic<int> signal_{0};
};

}  // namespace hangar
