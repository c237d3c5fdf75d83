// A blocked thread's call, decoded from /proc/TID/syscall and the memory its arguments
// point to: the fds it waits on and when its timeout can expire.
#include "hangar/blocking_call.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/syscall.h>

#include <array>
#include <cstring>
#include <map>

namespace hangar {
namespace {

using namespace std::chrono_literals;
using Kind = BlockingCall::Kind;

struct Memory {
    std::map<uint64_t, std::vector<uint8_t>> at;
    template <class T>
    void put(uint64_t address, const T& v) {
        std::vector<uint8_t> bytes(sizeof v);
        std::memcpy(bytes.data(), &v, sizeof v);
        at[address] = bytes;
    }
    MemoryReader reader() const {
        return [this](uint64_t address, void* out, size_t n) {
            for (const auto& [a, bytes] : at)
                if (address >= a && address + n <= a + bytes.size()) {
                    std::memcpy(out, bytes.data() + (address - a), n);
                    return true;
                }
            return false;
        };
    }
};

ThreadState call(long nr, std::array<uint64_t, 6> args, char state = 'S') {
    ThreadState t;
    t.state = state;
    t.syscall = nr;
    t.args = args;
    t.wait = Wait::other_untimed;
    return t;
}

TEST(BlockingCall, FutexTimeoutsAreRelativeForWaitAndAbsoluteForTheBitset) {
    Memory m;
    m.put(0x100, timespec{2, 500});
    auto wait = decode_call(call(SYS_futex, {0x5000, 0x80, 2, 0x100, 0, 0}), m.reader());
    EXPECT_EQ(wait.kind, Kind::futex);
    EXPECT_TRUE(wait.futex_private);
    EXPECT_EQ(wait.futex_value, 2u);
    EXPECT_EQ(wait.timeout.kind, Timeout::Kind::relative);
    EXPECT_EQ(wait.timeout.value, 2s + 500ns);
    auto bitset = decode_call(call(SYS_futex, {0x5000, 0x189, 0, 0x100, 0, 0xffffffff}), m.reader());
    EXPECT_EQ(bitset.timeout.kind, Timeout::Kind::absolute);
    EXPECT_EQ(bitset.timeout.clock, CLOCK_REALTIME);  // FUTEX_CLOCK_REALTIME
    auto untimed = decode_call(call(SYS_futex, {0x5000, 0x9, 0, 0, 0, 0xffffffff}), m.reader());
    EXPECT_EQ(untimed.timeout.kind, Timeout::Kind::none);
    EXPECT_FALSE(untimed.futex_private);
    auto unreadable = decode_call(call(SYS_futex, {0x5000, 0x80, 2, 0x900, 0, 0}), m.reader());
    EXPECT_EQ(unreadable.timeout.kind, Timeout::Kind::unknown);  // may end: never read as untimed
}

TEST(BlockingCall, PollReadsItsArrayAndSelectItsSets) {
    Memory m;
    m.put(0x200, std::array<pollfd, 3>{pollfd{3, POLLIN, 0}, pollfd{-1, POLLIN, 0}, pollfd{7, POLLOUT, 0}});
    auto p = decode_call(call(SYS_poll, {0x200, 3, 250, 0, 0, 0}), m.reader());
    EXPECT_EQ(p.kind, Kind::fd_poll);
    EXPECT_EQ(p.fds, (std::vector<int>{3, 7}));
    EXPECT_EQ(p.timeout.kind, Timeout::Kind::relative);
    EXPECT_EQ(p.timeout.value, 250ms);
    EXPECT_EQ(decode_call(call(SYS_poll, {0x200, 3, 0xffffffff, 0, 0, 0}), m.reader()).timeout.kind,
              Timeout::Kind::none);
    EXPECT_EQ(decode_call(call(SYS_poll, {0x900, 3, 250, 0, 0, 0}), m.reader()).kind, Kind::other);

    m.put(0x300, uint64_t{(1u << 4) | (1u << 9)});
    m.put(0x400, uint64_t{1u << 5});
    m.put(0x500, std::array<int64_t, 2>{1, 500000});  // a timeval
    auto s = decode_call(call(SYS_select, {10, 0x300, 0x400, 0, 0x500, 0}), m.reader());
    EXPECT_EQ(s.fds, (std::vector<int>{4, 5, 9}));
    EXPECT_EQ(s.timeout.value, 1500ms);
}

TEST(BlockingCall, SleepsReadsWritesChildrenAndSignals) {
    Memory m;
    m.put(0x100, timespec{0, 100000000});
    EXPECT_EQ(decode_call(call(SYS_nanosleep, {0x100, 0, 0, 0, 0, 0}), m.reader()).timeout.value, 100ms);
    auto abs = decode_call(call(SYS_clock_nanosleep, {CLOCK_MONOTONIC, TIMER_ABSTIME, 0x100, 0, 0, 0}), m.reader());
    EXPECT_EQ(abs.kind, Kind::sleep);
    EXPECT_EQ(abs.timeout.kind, Timeout::Kind::absolute);
    auto r = decode_call(call(SYS_read, {5, 0, 1, 0, 0, 0}), m.reader());
    EXPECT_EQ(r.kind, Kind::fd_io);
    EXPECT_EQ(r.fds, std::vector<int>{5});
    EXPECT_FALSE(r.writes);
    EXPECT_TRUE(decode_call(call(SYS_sendmsg, {6, 0, 0, 0, 0, 0}), m.reader()).writes);
    EXPECT_TRUE(decode_call(call(SYS_accept4, {6, 0, 0, 0, 0, 0}), m.reader()).accepts);
    EXPECT_EQ(decode_call(call(SYS_wait4, {~0ull, 0, 0, 0, 0, 0}), m.reader()).child, -1);
    EXPECT_EQ(decode_call(call(SYS_wait4, {42, 0, 0, 0, 0, 0}), m.reader()).child, 42);
    EXPECT_EQ(decode_call(call(SYS_rt_sigsuspend, {}), m.reader()).kind, Kind::signal);
    EXPECT_EQ(decode_call(call(SYS_restart_syscall, {}), m.reader()).kind, Kind::other);
    EXPECT_EQ(decode_call(call(SYS_futex, {1, 0x80, 2, 0, 0, 0}, 'R'), m.reader()).kind, Kind::running);
    EXPECT_EQ(decode_call(call(SYS_futex, {1, 0x80, 2, 0, 0, 0}, 'D'), m.reader()).kind, Kind::uninterruptible);
    EXPECT_EQ(decode_call(call(-1, {}), m.reader()).kind, Kind::other);
}

}  // namespace
}  // namespace hangar
