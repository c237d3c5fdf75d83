#include "hangar/interrupt.hpp"

#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace hangar {
namespace {

std::atomic<Interrupt*> g_signalled{nullptr};

void on_signal(int sig) { g_signalled.load()->request(sig); }

}  // namespace

Interrupt::Interrupt() : fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

Interrupt::~Interrupt() { close(fd_); }

Interrupt& Interrupt::on_signals() {
    static Interrupt* instance = [] {
        g_signalled = new Interrupt();  // never deleted: a handler may run until exit
        struct sigaction sa {};
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, nullptr);
        sigaction(SIGTERM, &sa, nullptr);
        return g_signalled.load();
    }();
    return *instance;
}

const Interrupt* Interrupt::installed() { return g_signalled.load(); }

void Interrupt::request(int signal_number) noexcept {
    int expected = 0;
    signal_.compare_exchange_strong(expected, signal_number);
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(fd_, &one, sizeof one);
}

}  // namespace hangar
