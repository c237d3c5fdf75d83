// What /proc says about a process's files, mappings and the machine's alarms, parsed.
#include "hangar/process_facts.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace hangar {
namespace {

using namespace std::chrono_literals;

TEST(ProcessFacts, ReadsFdinfo) {
    FdFacts pipe;
    pipe.kind = fd_kind("pipe:[5440903]");
    parse_fdinfo("pos:\t0\nflags:\t02020001\nmnt_id:\t16\nino:\t5440903\n", pipe);
    EXPECT_EQ(pipe.kind, FdFacts::Kind::pipe);
    EXPECT_EQ(pipe.access, O_WRONLY);
    EXPECT_TRUE(pipe.async);
    EXPECT_EQ(pipe.inode, 5440903u);

    FdFacts ep;
    ep.kind = fd_kind("anon_inode:[eventpoll]");
    parse_fdinfo("pos:\t0\nflags:\t02000002\nmnt_id:\t17\nino:\t1038\n"
                 "tfd:        3 events:       19 data:                3  pos:0 ino:53030e sdev:f\n",
                 ep);
    EXPECT_EQ(ep.kind, FdFacts::Kind::epoll);
    ASSERT_EQ(ep.epoll.size(), 1u);
    EXPECT_EQ(ep.epoll[0].fd, 3);
    EXPECT_EQ(ep.epoll[0].inode, 0x53030eu);

    FdFacts timer;
    parse_fdinfo("clockid: 1\nticks: 0\nsettime flags: 01\nit_value: (0, 999768452)\nit_interval: (0, 0)\n", timer);
    ASSERT_TRUE(timer.timer_left);
    EXPECT_EQ(*timer.timer_left, 999768452ns);
    FdFacts disarmed;
    parse_fdinfo("it_value: (0, 0)\n", disarmed);
    EXPECT_FALSE(disarmed.timer_left);

    EXPECT_EQ(fd_kind("/tmp/fifo"), FdFacts::Kind::path);
    EXPECT_EQ(fd_kind("anon_inode:[perf_event]"), FdFacts::Kind::other);
}

TEST(ProcessFacts, ReadsMapsAndKnowsWhichFilesOthersCanMap) {
    auto m = parse_maps_line("00946000-00a85000 rw-p 00545000 fe:00 247970                     /usr/bin/python3.11");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->start, 0x946000u);
    EXPECT_EQ(m->offset, 0x545000u);
    EXPECT_EQ(m->path, "/usr/bin/python3.11");
    EXPECT_FALSE(m->shared());
    EXPECT_TRUE(m->writable());
    EXPECT_TRUE(m->named_file());
    auto anon = parse_maps_line("7f0000000000-7f0000001000 rw-s 00000000 00:01 1234 /dev/zero (deleted)");
    ASSERT_TRUE(anon);
    EXPECT_TRUE(anon->shared());
    EXPECT_FALSE(anon->named_file());
    EXPECT_FALSE(parse_maps_line("7f0000000000-7f0000001000 rw-s 00000000 00:01 9 /memfd:pool (deleted)")->named_file());
    EXPECT_TRUE(parse_maps_line("7f0000000000-7f0000001000 rw-s 00000000 00:01 9 /SYSV0000002a (deleted)")->named_file());
    auto heap = parse_maps_line("55d0a0000000-55d0a0021000 rw-p 00000000 00:00 0");
    ASSERT_TRUE(heap);
    EXPECT_TRUE(heap->path.empty());
}

TEST(ProcessFacts, ReadsFileLocks) {
    auto locks = parse_locks(
        "1: FLOCK  ADVISORY  WRITE 4242 fe:00:1234 0 EOF\n"
        "1: -> FLOCK  ADVISORY  WRITE 4243 fe:00:1234 0 EOF\n"
        "2: OFDLCK ADVISORY  READ  -1 00:06:9847 0 EOF\n"
        "garbage\n");
    ASSERT_EQ(locks.size(), 3u);
    EXPECT_EQ(locks[0].kind, "FLOCK");
    EXPECT_EQ(locks[0].pid, 4242);
    EXPECT_EQ(locks[0].inode, 1234u);
    EXPECT_FALSE(locks[0].waiting);
    EXPECT_TRUE(locks[1].waiting);
    EXPECT_EQ(locks[1].pid, 4243);
    EXPECT_EQ(locks[2].kind, "OFDLCK");
    EXPECT_EQ(locks[2].pid, -1);
    EXPECT_EQ(locks[2].inode, 9847u);
}

TEST(ProcessFacts, FindsTheSoonestAlarmInTimerList) {
    const char* text = R"(now at 4927625227189 nsecs
 #0: <00000000ed708076>, hrtimer_wakeup, S:01
 # expires at 4927626430582-4927626480582 nsecs [in 1203393 to 1253393 nsecs]
 #8: <0000000007a9c567>, it_real_fn, S:01
 # expires at 4930000000000-4930000000000 nsecs [in 2374772811 to 2374772811 nsecs]
 #9: <0000000007a9c568>, it_real_fn, S:01
 # expires at 4928000000000-4928000000000 nsecs [in 374772811 to 374772811 nsecs]
)";
    auto soonest = soonest_alarm(text);
    ASSERT_TRUE(soonest);
    EXPECT_EQ(*soonest, 374772811ns);
    EXPECT_FALSE(soonest_alarm(" #0: <1>, hrtimer_wakeup, S:01\n # expires at 1-1 nsecs [in 5 to 5 nsecs]\n"));
}

TEST(ProcessFacts, ReadsThisProcess) {
    ProcFacts facts;
    ProcessFacts& self = facts.process(getpid());
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    const FdFacts* r = self.fd(p[0]);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->kind, FdFacts::Kind::pipe);
    EXPECT_EQ(r->access, O_RDONLY);
    EXPECT_TRUE(self.native_abi());
    EXPECT_EQ(self.own_tid(getpid()), getpid());  // the test runs in the namespace it sees
    int value = 1234;
    int read_back = 0;
    EXPECT_TRUE(self.read_memory(reinterpret_cast<uint64_t>(&value), &read_back, sizeof read_back));
    EXPECT_EQ(read_back, 1234);
    EXPECT_NE(self.mapping(reinterpret_cast<uint64_t>(&value)), nullptr);
    close(p[0]);
    close(p[1]);
}

}  // namespace
}  // namespace hangar
