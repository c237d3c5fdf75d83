// The wait-for graph's rules, on processes described here: which waits are live, which
// threads could end which waits, and which wait is the root of a hang.
#include "hangar/wait_graph.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <array>

#include "fake_facts.hpp"

namespace hangar {
namespace {

using testing::blocked;
using testing::FakeFacts;
using testing::process_of;
using namespace std::chrono_literals;

constexpr uint64_t kAny = ~uint64_t{0};
const auto kNow = SteadyClock::now();

// A held pthread_mutex_t, as glibc lays it out: __lock 2 (waiters), __owner, one user.
std::array<int32_t, 10> held_mutex(int32_t owner) { return {2, 0, owner, 1, 0, 0, 0, 0, 0, 0}; }

ThreadState lock_wait(pid_t tid, uint64_t address = 0x5000, uint64_t op = 0x80 /*FUTEX_WAIT|PRIVATE*/) {
    return blocked(tid, SYS_futex, {address, op, 2, 0, 0, 0});
}
ThreadState read_of(pid_t tid, int fd) { return blocked(tid, SYS_read, {static_cast<uint64_t>(fd), 0x1000, 1, 0, 0, 0}); }
ThreadState write_of(pid_t tid, int fd) { return blocked(tid, SYS_write, {static_cast<uint64_t>(fd), 0x1000, 1, 0, 0, 0}); }
ThreadState wait_child(pid_t tid) { return blocked(tid, SYS_wait4, {kAny, 0, 0, 0, 0, 0}); }

WaitGraph build(const std::vector<ProcessState>& tree, FakeFacts& facts, const RunWindow* window = nullptr) {
    WaitGraph::Options o;
    o.window = window;
    o.now = kNow;
    return WaitGraph::build(tree, facts, o);
}

const WaitNode& node(const WaitGraph& g, pid_t tid) {
    for (const auto& n : g.nodes())
        if (n.tid == tid) return n;
    throw std::runtime_error("no thread " + std::to_string(tid));
}

TEST(WaitGraph, APipeWhoseWriterIsStuckIsStuckAndNamesTheWriter) {
    FakeFacts facts;
    facts.processes[10].pipe_end(3, 77, O_RDONLY);
    facts.processes[20].pipe_end(4, 77, O_WRONLY);
    auto g = build({process_of(10, 1, {read_of(10, 3)}), process_of(20, 10, {lock_wait(20)})}, facts);
    EXPECT_TRUE(g.deadlocked());
    const WaitNode& reader = node(g, 10);
    ASSERT_EQ(reader.wakers.size(), 1u);
    EXPECT_EQ(g.nodes()[reader.wakers[0]].tid, 20);
    EXPECT_NE(g.sentence(reader).find("reads pipe:[77], whose writers are pid 20"), std::string::npos)
        << g.sentence(reader);
}

TEST(WaitGraph, APipeWhoseOtherEndNoProcessOfTheTreeHoldsIsLive) {
    FakeFacts facts;  // hangar's own output pipe: the reader is outside the tree
    facts.processes[10].pipe_end(1, 77, O_WRONLY);
    auto g = build({process_of(10, 1, {write_of(10, 1)})}, facts);
    EXPECT_FALSE(g.deadlocked());
    EXPECT_NE(g.why_live().find("held by no process of the tree"), std::string::npos) << g.why_live();
}

TEST(WaitGraph, AWriterIsWokenByTheReadersOnly) {
    FakeFacts facts;
    facts.processes[10].pipe_end(3, 77, O_RDONLY);  // the parent reads, and waits for the child
    facts.processes[20].pipe_end(4, 77, O_WRONLY);
    facts.processes[20].pipe_end(5, 78, O_RDONLY);  // another pipe: not this one
    auto g = build({process_of(10, 1, {wait_child(10)}), process_of(20, 10, {write_of(20, 4)})}, facts);
    EXPECT_TRUE(g.deadlocked());
    EXPECT_EQ(node(g, 20).other_side, std::vector<pid_t>{10});
    // The root: the parent waits for the child, which writes what only the parent reads.
    ASSERT_NE(g.root(), nullptr);
    EXPECT_EQ(g.root()->tid, 20);
}

TEST(WaitGraph, AUnixSocketFollowsItsPeer) {
    FakeFacts facts;
    auto socket_at = [](int fd, uint64_t inode) {
        FdFacts f;
        f.fd = fd;
        f.target = "socket:[" + std::to_string(inode) + "]";
        f.kind = FdFacts::Kind::socket;
        f.inode = inode;
        return f;
    };
    facts.processes[10].files = {socket_at(3, 500)};
    facts.processes[10].sockets[3] = SocketFacts{AF_UNIX, SOCK_STREAM, false, 0ns, 0ns};
    facts.processes[20].files = {socket_at(4, 501)};
    facts.processes[20].sockets[4] = SocketFacts{AF_UNIX, SOCK_STREAM, false, 0ns, 0ns};
    facts.machine.unix[500] = UnixSocketFacts{501, false, false};
    facts.machine.unix[501] = UnixSocketFacts{500, false, false};
    std::vector<ProcessState> tree{process_of(10, 1, {read_of(10, 3)}), process_of(20, 10, {lock_wait(20)})};
    EXPECT_TRUE(build(tree, facts).deadlocked());

    facts.machine.unix[500].peer = 999;  // a peer no process of the tree holds
    EXPECT_FALSE(build(tree, facts).deadlocked());

    facts.machine.unix[500].peer = 501;  // SO_RCVTIMEO: the read ends by itself
    facts.processes[10].sockets[3].rcvtimeo = 3s;
    RunWindow window{kNow - 1s, kNow + 10s};
    auto g = build(tree, facts, &window);
    EXPECT_FALSE(g.deadlocked());
    EXPECT_NE(g.why_live().find("SO_RCVTIMEO"), std::string::npos) << g.why_live();
    facts.processes[10].sockets[3].rcvtimeo = 60s;  // ... but not before the run's limit
    EXPECT_FALSE(build(tree, facts, &window).deadlocked());
    EXPECT_TRUE(build(tree, facts, &window).outlasts_limit());
}

// A deadline past the run's limit cannot act before the limit, so a run whose other
// threads are stuck is proven at once to outlast it; but the sleeper can act after it (end
// the wedged child, free a lock it holds), so that is a timeout, never a deadlock.
TEST(WaitGraph, ADeadlinePastTheRunsLimitEndsTheRunAtOnceAsATimeoutNotADeadlock) {
    FakeFacts facts;
    ThreadState sleeper = blocked(11, SYS_nanosleep, {0x7000, 0, 0, 0, 0, 0});
    sleeper.sp = 0x6f00;  // its timespec is on its own stack
    facts.processes[10].mappings = {Mapping{0x6000, 0x8000, 0, "rw-p", "00:00", 0, ""}};
    facts.processes[10].put(0x7000, timespec{60, 0});
    RunWindow window{kNow - 1s, kNow + 10s};
    {
        std::vector<ProcessState> tree{process_of(10, 1, {sleeper}), process_of(20, 10, {lock_wait(20)})};
        facts.processes[10].put(0x7000, timespec{60, 0});
        auto g = build(tree, facts, &window);
        EXPECT_FALSE(g.deadlocked());
        EXPECT_TRUE(g.outlasts_limit());
        EXPECT_NE(g.why_live().find("outlast the run's limit"), std::string::npos) << g.why_live();
        EXPECT_NE(g.why_live().find("one can after it: pid 10 thread 11"), std::string::npos) << g.why_live();
        EXPECT_FALSE(build(tree, facts, nullptr).outlasts_limit());  // no limit known: it may act
        facts.processes[10].put(0x7000, timespec{5, 0});  // before the limit: live
        EXPECT_FALSE(build(tree, facts, &window).deadlocked());
        EXPECT_FALSE(build(tree, facts, &window).outlasts_limit());
    }
    // A timespec that another thread could have rewritten since the call copied it (the
    // sleeper is not alone in its process, or the timespec is not on its stack): hangar
    // cannot tell that the sleep lasts past the limit.
    facts.processes[10].put(0x7000, timespec{60, 0});
    auto shared = build({process_of(10, 1, {lock_wait(10), sleeper})}, facts, &window);
    EXPECT_FALSE(shared.outlasts_limit());
    EXPECT_FALSE(shared.deadlocked());
    sleeper.sp = 0x9000;
    EXPECT_FALSE(build({process_of(10, 1, {sleeper}), process_of(20, 10, {lock_wait(20)})}, facts, &window).outlasts_limit());

    // Nothing timed anywhere: stuck for good.
    std::vector<ProcessState> stuck{process_of(10, 1, {lock_wait(10)}), process_of(20, 10, {lock_wait(20)})};
    EXPECT_TRUE(build(stuck, facts, &window).deadlocked());
    EXPECT_FALSE(build(stuck, facts, &window).outlasts_limit());
}

TEST(WaitGraph, ProcessSharedFutexesAreWokenByTheTreeOrFromOutside) {
    FakeFacts facts;
    Mapping anon{0x7000, 0x8000, 0, "rw-s", "00:01", 42, "/dev/zero (deleted)"};
    Mapping named{0x9000, 0xa000, 0, "rw-s", "00:16", 43, "/dev/shm/sem.job"};
    Mapping heap{0xb000, 0xc000, 0, "rw-p", "00:00", 0, "[heap]"};
    facts.processes[10].mappings = {anon, named, heap};
    auto shared_wait = [](pid_t tid, uint64_t address) { return lock_wait(tid, address, 0 /*FUTEX_WAIT, shared*/); };
    auto in = [&](uint64_t address) { return build({process_of(10, 1, {shared_wait(10, address)})}, facts); };
    EXPECT_TRUE(in(0x7100).deadlocked());
    EXPECT_FALSE(in(0x9100).deadlocked());  // a named file: outside processes may map it
    // A memfd can be sent out over a Unix socket: only while none leads outside is it the tree's.
    facts.processes[10].mappings.push_back({0xd000, 0xe000, 0, "rw-s", "00:01", 44, "/memfd:ring (deleted)"});
    EXPECT_TRUE(in(0xd100).deadlocked());
    FdFacts sock;
    sock.fd = 7;
    sock.target = "socket:[600]";
    sock.kind = FdFacts::Kind::socket;
    sock.inode = 600;
    facts.processes[10].files = {sock};
    facts.processes[10].sockets[7] = SocketFacts{AF_UNIX, SOCK_STREAM, false, 0ns, 0ns};
    facts.machine.unix[600] = UnixSocketFacts{601, false, false};  // a peer outside the tree
    EXPECT_FALSE(in(0xd100).deadlocked());
    EXPECT_TRUE(in(0x7100).deadlocked());  // shared anonymous memory is only ever inherited
    auto g = in(0xb100);                    // no private flag, private memory: this process only
    EXPECT_TRUE(g.deadlocked());
    EXPECT_NE(g.sentence(g.nodes()[0]).find("in private memory"), std::string::npos);
}

TEST(WaitGraph, TimersAndAlarmsKeepAProcessLive) {
    FakeFacts facts;
    std::vector<ProcessState> tree{process_of(10, 1, {lock_wait(10)})};
    EXPECT_TRUE(build(tree, facts).deadlocked());
    facts.processes[10].timers = 1;
    EXPECT_FALSE(build(tree, facts).deadlocked());
    facts.processes[10].timers = 0;

    const uint64_t sigalrm = uint64_t{1} << (SIGALRM - 1);
    facts.processes[10].signal_state.caught = sigalrm;
    EXPECT_TRUE(build(tree, facts).deadlocked());  // a handler, and no alarm pending anywhere
    facts.machine.alarm_state.soonest = 3s;
    EXPECT_FALSE(build(tree, facts).deadlocked());
    facts.processes[10].signal_state = {0, sigalrm, 0, 0};  // ignored: the alarm cannot reach it
    EXPECT_TRUE(build(tree, facts).deadlocked());
    facts.processes[10].signal_state = {};  // the default action would kill it
    EXPECT_FALSE(build(tree, facts).deadlocked());
    RunWindow window{kNow - 1s, kNow + 1s};  // an alarm after the run's limit: it may act then
    EXPECT_FALSE(build(tree, facts, &window).deadlocked());
    EXPECT_TRUE(build(tree, facts, &window).outlasts_limit());

    facts.processes[10].signal_state = {uint64_t{1} << (SIGIO - 1), 0, 0, 0};  // the kernel may send it
    EXPECT_FALSE(build(tree, facts).deadlocked());
    facts.processes[10].signal_state = {};

    facts.machine.alarm_state = {false, std::nullopt};  // no /proc/timer_list: only a handler is seen
    EXPECT_TRUE(build(tree, facts).deadlocked());
    facts.processes[10].signal_state.caught = sigalrm;
    EXPECT_FALSE(build(tree, facts).deadlocked());
}

TEST(WaitGraph, SignalWaitsStoppedThreadsAndUnknownCallsAreLive) {
    FakeFacts facts;
    EXPECT_FALSE(build({process_of(10, 1, {blocked(10, SYS_rt_sigsuspend, {})})}, facts).deadlocked());
    EXPECT_FALSE(build({process_of(10, 1, {blocked(10, SYS_flock, {3, 2, 0, 0, 0, 0})})}, facts).deadlocked());
    ThreadState stopped = lock_wait(10);
    stopped.state = 'T';
    EXPECT_FALSE(build({process_of(10, 1, {stopped})}, facts).deadlocked());
    facts.processes[10].abi = false;  // a 32-bit process: its numbers mean other calls
    EXPECT_FALSE(build({process_of(10, 1, {lock_wait(10)})}, facts).deadlocked());
}

TEST(WaitGraph, AMutexOwnerInTheProcessIsItsOnlyWaker) {
    FakeFacts facts;
    facts.processes[10].put(0x5000, held_mutex(11));  // held by thread 11
    auto g = build({process_of(10, 1, {lock_wait(10), write_of(11, 9), lock_wait(12, 0x6000)})}, facts);
    const WaitNode& waiter = node(g, 10);
    EXPECT_EQ(waiter.owner, 11);
    ASSERT_EQ(waiter.wakers.size(), 1u);
    EXPECT_EQ(g.nodes()[waiter.wakers[0]].tid, 11);
    EXPECT_FALSE(waiter.owner_outside);
}

TEST(WaitGraph, AMutexOwnerThatIsAThreadOfTheParentWasHeldAcrossFork) {
    FakeFacts facts;
    facts.processes[20].put(0x5000, held_mutex(4));
    facts.processes[10].own = {{10, 2}, {11, 4}};  // the parent's thread 11 is tid 4 in the namespace
    facts.processes[20].own = {{20, 5}};
    auto g = build({process_of(10, 1, {wait_child(10), lock_wait(11, 0x6000)}), process_of(20, 10, {lock_wait(20)})},
                   facts);
    EXPECT_TRUE(g.deadlocked());
    EXPECT_TRUE(g.structural());
    const WaitNode& child = node(g, 20);
    EXPECT_TRUE(child.owner_outside);
    EXPECT_TRUE(child.wakers.empty());
    EXPECT_NE(child.owner_note.find("held across fork (it is thread 11 of pid 10, its parent"), std::string::npos)
        << child.owner_note;
    EXPECT_EQ(g.root(), &child);
}

TEST(WaitGraph, APthreadMutexIsNotGuessedFromWordsThatDoNotLookLikeOne) {
    FakeFacts facts;
    facts.processes[20].own = {{20, 5}};
    auto owner_of = [&](std::array<int32_t, 10> words) {
        facts.processes[20].put(0x5000, words);
        return node(build({process_of(10, 1, {wait_child(10)}), process_of(20, 10, {lock_wait(20)})}, facts), 20).owner;
    };
    EXPECT_EQ(owner_of(held_mutex(4)), 4);  // older than the process: held across fork
    EXPECT_EQ(owner_of({2, 0, 4, 0, 0, 0, 0, 0, 0, 0}), 0);       // no user: not a held mutex
    EXPECT_EQ(owner_of({2, 0, 4, 1, 0x4000, 0, 0, 0, 0, 0}), 0);  // a kind glibc does not have
    EXPECT_EQ(owner_of({2, 0, 4, 1, 0, 0, 0, 0, 7, 0}), 0);       // a robust list, but not robust
    EXPECT_EQ(owner_of({2, 3, 4, 1, 0, 0, 0, 0, 0, 0}), 0);       // a count, but not recursive
    EXPECT_EQ(owner_of(held_mutex(4107392)), 0);  // names no thread, and is younger than the process
    // The same words in glibc's .bss (an internal lock, a bare int, and its neighbours).
    facts.processes[20].mappings = {{0x4000, 0x4800, 0x1000, "rw-p", "fe:00", 9, "/usr/lib/x86_64-linux-gnu/libc.so.6"},
                                    {0x4800, 0x6000, 0, "rw-p", "00:00", 0, ""}};
    EXPECT_EQ(owner_of(held_mutex(4)), 0);
}

TEST(WaitGraph, AGilWaiterIsLiveOnlyThroughTheGilsHolder) {
    FakeFacts facts;
    // The GIL's condition variable: a timed private FUTEX_WAIT_BITSET, 5 ms away.
    facts.machine.gil_words[0xa5b8f4] = true;
    ThreadState waiter = blocked(11, SYS_futex, {0xa5b8f4, 0x89, 0, 0x7000, 0, 0xffffffff});
    facts.processes[10].put(0x7000, timespec{0, 0});  // monotonic 0: long past, it will wake at once
    auto python = [&](ThreadState holder) {
        return process_of(10, 1, {holder, waiter}, "/usr/bin/python3.11");
    };
    auto g = build({python(lock_wait(10))}, facts);
    EXPECT_TRUE(g.deadlocked());
    EXPECT_TRUE(node(g, 11).gil);
    EXPECT_EQ(g.root()->tid, 10);  // the GIL's holder, stuck on its lock
    ThreadState sleeping = blocked(10, SYS_nanosleep, {0x7100, 0, 0, 0, 0, 0});
    facts.processes[10].put(0x7100, timespec{0, 100000000});
    g = build({python(sleeping)}, facts);
    EXPECT_FALSE(g.deadlocked());
    EXPECT_TRUE(node(g, 11).live);  // through its holder
    EXPECT_FALSE(node(g, 11).live_by_itself);
    // The same wait in a program that is not Python is only a timed wait.
    EXPECT_FALSE(build({process_of(10, 1, {lock_wait(10), waiter})}, facts).deadlocked());
}

TEST(WaitGraph, EpollFollowsWhatItWatches) {
    FakeFacts facts;
    FdFacts ep;
    ep.fd = 5;
    ep.target = "anon_inode:[eventpoll]";
    ep.kind = FdFacts::Kind::epoll;
    ep.epoll = {{3, 77}};
    facts.processes[10].files = {ep};
    facts.processes[10].pipe_end(3, 77, O_RDONLY);
    facts.processes[20].pipe_end(4, 77, O_WRONLY);
    ThreadState waits = blocked(10, SYS_epoll_wait, {5, 0x1000, 8, kAny, 0, 0});
    std::vector<ProcessState> tree{process_of(10, 1, {waits}), process_of(20, 10, {lock_wait(20)})};
    auto g = build(tree, facts);
    EXPECT_TRUE(g.deadlocked());
    EXPECT_EQ(node(g, 10).other_side, (std::vector<pid_t>{10, 20}));
    facts.processes[10].files[0].epoll = {{3, 78}};  // fd 3 is no longer the file it watches
    EXPECT_FALSE(build(tree, facts).deadlocked());
    facts.processes[10].files[0].epoll = {{3, 77}};
    facts.processes[10].epoll_same = false;  // same number and inode, another file (kcmp)
    EXPECT_FALSE(build(tree, facts).deadlocked());
    facts.processes[10].epoll_same = std::nullopt;  // kcmp cannot say
    EXPECT_FALSE(build(tree, facts).deadlocked());
}

// Found by an adversarial sweep: each of these healthy programs was once called a deadlock.
TEST(WaitGraph, WhatTheKernelOrAnotherClockMayEndIsLive) {
    FakeFacts facts;
    facts.processes[10].pipe_end(3, 77, O_RDONLY);
    facts.processes[20].pipe_end(4, 77, O_WRONLY);
    std::vector<ProcessState> tree{process_of(10, 1, {read_of(10, 3)}), process_of(20, 10, {lock_wait(20)})};
    ASSERT_TRUE(build(tree, facts).deadlocked());

    // io_uring and Linux AIO complete requests in the kernel's own time.
    FdFacts ring;
    ring.fd = 9;
    ring.target = "anon_inode:[io_uring]";
    facts.processes[20].files.push_back(ring);
    EXPECT_FALSE(build(tree, facts).deadlocked());
    facts.processes[20].files.pop_back();
    facts.processes[20].mappings = {Mapping{0x7000, 0x8000, 0, "rw-s", "00:10", 5, "/[aio] (deleted)"}};
    EXPECT_FALSE(build(tree, facts).deadlocked());
    facts.processes[20].mappings.clear();

    // A pipe read that sleeps in another kind's kernel function: fd 3 was reused since.
    ThreadState reused = read_of(10, 3);
    reused.wchan = "do_wait_intr_irq";  // a timerfd's read
    EXPECT_FALSE(build({process_of(10, 1, {reused}), process_of(20, 10, {lock_wait(20)})}, facts).deadlocked());
    reused.wchan = "anon_pipe_read";
    EXPECT_TRUE(build({process_of(10, 1, {reused}), process_of(20, 10, {lock_wait(20)})}, facts).deadlocked());

    // A file of the run that a process outside it holds too (sent out over a Unix socket
    // that has closed since): that process may end the wait.
    facts.machine.outside_holders["pipe:[77]"] = 4242;
    auto g = build(tree, facts);
    EXPECT_FALSE(g.deadlocked());
    EXPECT_NE(g.why_live().find("pid 4242 outside the tree holds too"), std::string::npos) << g.why_live();
    facts.machine.outside_holders.clear();

    // A deadline on a clock the process's time namespace offsets.
    ThreadState sleeper = blocked(11, SYS_clock_nanosleep, {CLOCK_MONOTONIC, TIMER_ABSTIME, 0x7000, 0, 0, 0});
    facts.processes[10].put(0x7000, timespec{1, 0});  // long past on hangar's clock
    std::vector<ProcessState> sleeping{process_of(10, 1, {sleeper}), process_of(20, 10, {lock_wait(20)})};
    EXPECT_FALSE(build(sleeping, facts).deadlocked());
    facts.processes[10].time_offset = true;
    RunWindow window{kNow - 1s, kNow + 10s};
    facts.processes[10].put(0x7000, timespec{int64_t{1} << 31, 0});  // far away on hangar's clock
    EXPECT_FALSE(build(sleeping, facts, &window).outlasts_limit());
    EXPECT_NE(build(sleeping, facts, &window).why_live().find("time namespace"), std::string::npos);
}

TEST(WaitGraph, AChildWaitLeadsToTheChildsBestWait) {
    FakeFacts facts;
    facts.processes[20].pipe_end(4, 77, O_WRONLY);
    facts.processes[10].pipe_end(3, 77, O_RDONLY);
    // The child's main thread joins a feeder thread that writes a pipe only the parent reads.
    auto g = build({process_of(10, 1, {wait_child(10)}), process_of(20, 10, {lock_wait(20), write_of(21, 4)})},
                   facts);
    EXPECT_TRUE(g.deadlocked());
    auto path = g.root_path();
    ASSERT_EQ(path.size(), 2u);
    EXPECT_EQ(path[0]->tid, 10);
    EXPECT_EQ(path[1]->tid, 21);  // I/O before a join
    EXPECT_NE(g.render().find("Root of the wait: pid 10 thread 10"), std::string::npos) << g.render();
}

TEST(WaitGraph, ALiveThreadMakesEveryWaitItCouldEndLive) {
    FakeFacts facts;
    facts.processes[10].pipe_end(3, 77, O_RDONLY);
    facts.processes[20].pipe_end(4, 77, O_WRONLY);
    ThreadState runs = lock_wait(20);
    runs.state = 'R';
    auto g = build({process_of(10, 1, {read_of(10, 3), lock_wait(11)}), process_of(20, 10, {runs})}, facts);
    EXPECT_FALSE(g.deadlocked());
    EXPECT_TRUE(node(g, 10).live);  // through the writer
    EXPECT_TRUE(node(g, 11).live);  // through the reader, a thread of its process
    EXPECT_NE(g.sentence(node(g, 10)).find("live through pid 20 thread 20"), std::string::npos);
}

}  // namespace
}  // namespace hangar
