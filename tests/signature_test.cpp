#include "hangar/signature.hpp"

#include <gtest/gtest.h>

namespace hangar {
namespace {

// Shapes seen on this machine: eu-stack -i of a forked child stuck in getaddrinfo, and of
// a C++ logger's child stuck in std::mutex (inlined frames, demangled names).
const char* kGetaddrinfo = R"(PID 4242 - process
TID 4242:
#0  0x00007f1c2a0a4f16 __futex_abstimed_wait_common
#1  0x00007f1c2a0a412b __GI___lll_lock_wait_private
#2  0x00007f1c2a15c9a1 __check_pf
#3  0x00007f1c2a12e3c5 __GI_getaddrinfo
#4  0x000055c1d8a1b2c0 child_body
#5  0x00007f1c2a03d24a __libc_start_call_main
TID 4243:
#0  0x00007f1c2a0a4f16 clock_nanosleep@GLIBC_2.2.5
)";

const char* kLogger = R"(PID 15499 - process
TID 15499:
#0  0x00007fa0902a412b __GI___lll_lock_wait
#1  0x00007fa0902aa482 __pthread_mutex_lock@GLIBC_2.2.5
#2  0x000056098bcc98a2 __gthread_mutex_lock
#3  0x000056098bcc98a2 std::mutex::lock()
#4  0x000056098bcc98a2 std::lock_guard<std::mutex>::lock_guard(std::mutex&)
#5  0x000056098bcc98a2 Logger::log(std::basic_string_view<char, std::char_traits<char> >)
#6  0x000056098bcc98a2 child_body
#7  0x000056098bcc98a2 std::_Function_handler<int (), main::{lambda()#3}>::_M_invoke(std::_Any_data const&)
)";

const char* kFaulthandler = R"(HANGAR-MARK: child: logging one line
Fatal Python error: Aborted

Thread 0x00007f4ad1f2d6c0 (most recent call first):
  File "/usr/lib/python3.11/threading.py", line 320 in wait
  File "/work/scenarios/x.py", line 43 in drain

Current thread 0x00007f4ad2485040 (most recent call first):
  File "/usr/lib/python3.11/logging/__init__.py", line 1094 in flush
  File "/usr/lib/python3.11/logging/__init__.py", line 1114 in emit
  File "/work/scenarios/logging-lock/stream_buffer.py", line 31 in child
)";

TEST(Signature, NamesTheNativeBlockingPointPastLockPlumbing) {
    auto frames = native_frames(kGetaddrinfo);
    ASSERT_EQ(frames.size(), 6u);
    EXPECT_EQ(frames[1], "lll_lock_wait_private");
    EXPECT_EQ(native_signature(frames), "getaddrinfo > __check_pf");
    EXPECT_EQ(native_signature(native_frames(kLogger)), "child_body > Logger::log");
}

TEST(Signature, PicksTheAskedThread) {
    auto frames = native_frames(kGetaddrinfo, 4243);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0], "clock_nanosleep");
    EXPECT_EQ(native_signature({"__futex_abstimed_wait_common", "sem_wait"}), "");
    // Under TSan: futex, lock plumbing, the real call, its interceptor, the caller.
    EXPECT_EQ(native_signature({"futex_wait", "lll_lock_wait_private", "setpwent", "__interceptor_setpwent",
                                "enumerate_passwd"}),
              "enumerate_passwd > setpwent");
    EXPECT_EQ(native_signature({"futex_wait", "lll_lock_wait", "pthread_mutex_lock", "__interceptor_pthread_mutex_lock",
                                "__gthread_mutex_lock", "std::mutex::lock", "Logger::log", "child_body"}),
              "child_body > Logger::log");
}

TEST(Signature, NamesThePythonFrameWhereTheCurrentThreadWaits) {
    auto stacks = python_stacks(kFaulthandler);
    ASSERT_EQ(stacks.size(), 2u);
    ASSERT_EQ(stacks[0].size(), 3u);  // the current thread comes first
    EXPECT_EQ(stacks[0][0].line, 1094);
    EXPECT_EQ(python_signature(stacks[0]), "logging/__init__.py:flush");
    EXPECT_EQ(python_signature(stacks[1]), "x.py:drain");  // threading's wait says nothing
}

// eu-stack -i -m of a forked child stuck in libgomp (no symbols for its internals) and of
// one stuck in pthread_mutex_lock called from main.
const char* kModules = R"(PID 32314 - process
TID 32315:
#0  0x00007fe2b212764e - /usr/lib/x86_64-linux-gnu/libgomp.so.1.0.0
#1  0x00007fe2b2124d68 - /usr/lib/x86_64-linux-gnu/libgomp.so.1.0.0
#2  0x00007fe2b2120a10 GOMP_parallel - /usr/lib/x86_64-linux-gnu/libgomp.so.1.0.0
#3  0x000055fb158d915a parallel_sum - /work/corpus/libgomp_fork
#4  0x000055fb158d916a main - /work/corpus/libgomp_fork
TID 32316:
#0  0x00007f8efeea412b futex_wait - /usr/lib/x86_64-linux-gnu/libc.so.6
#1  0x00007f8efeea412b __GI___lll_lock_wait - /usr/lib/x86_64-linux-gnu/libc.so.6
#2  0x00007f8efeeaa482 lll_mutex_lock_optimized - /usr/lib/x86_64-linux-gnu/libc.so.6
#3  0x00007f8efeeaa482 ___pthread_mutex_lock - /usr/lib/x86_64-linux-gnu/libc.so.6
#4  0x0000563e411f42b1 main - /work/corpus/heartbeat
#5  0x00007f8efee4524a __libc_start_call_main - /usr/lib/x86_64-linux-gnu/libc.so.6
#6  0x00007f8efee45305 __libc_start_main_impl - /usr/lib/x86_64-linux-gnu/libc.so.6
#7  0x0000563e411f3e91 _start - /work/corpus/heartbeat
)";

TEST(Signature, NamesFramesWithoutSymbolsByModuleAndOffset) {
    ModuleBases bases = module_bases(
        "7fe2b2108000-7fe2b210c000 r--p 00000000 fe:00 21 /usr/lib/x86_64-linux-gnu/libgomp.so.1.0.0\n"
        "7fe2b210c000-7fe2b2130000 r-xp 00004000 fe:00 21 /usr/lib/x86_64-linux-gnu/libgomp.so.1.0.0\n");
    EXPECT_EQ(bases.at("/usr/lib/x86_64-linux-gnu/libgomp.so.1.0.0"), 0x7fe2b2108000u);
    auto frames = native_frames(kModules, 32315, &bases);
    ASSERT_EQ(frames.size(), 4u);  // the run of unnamed libgomp frames is kept as its innermost
    EXPECT_EQ(frames[0], "libgomp.so.1.0.0+0x1f64e");
    EXPECT_EQ(native_signature(frames), "GOMP_parallel > libgomp.so.1.0.0+0x1f64e");
    EXPECT_EQ(native_frames(kModules, 32315)[0], "libgomp.so.1.0.0");  // no bases: the module alone
    EXPECT_EQ(native_frames(kModules, 32316)[3], "___pthread_mutex_lock");  // " - module" is cut
}

TEST(Signature, IsNeverJustMainAndTheStartUpFramesWhenALibraryFrameIsThere) {
    EXPECT_EQ(native_signature(native_frames(kModules, 32316)), "main > pthread_mutex_lock");
    EXPECT_EQ(native_signature({"futex_wait", "main", "__libc_start_call_main"}), "main > futex_wait");
    EXPECT_EQ(native_signature({"reader", "start_thread", "clone3"}), "start_thread > reader");
}

TEST(Signature, KeepsEachPythonThreadsIdentifier) {
    auto stacks = python_thread_stacks(kFaulthandler);
    ASSERT_EQ(stacks.size(), 2u);
    EXPECT_EQ(stacks[0].thread, 0x00007f4ad1f2d6c0u);
    EXPECT_FALSE(stacks[0].current);
    EXPECT_EQ(stacks[1].thread, 0x00007f4ad2485040u);
    EXPECT_TRUE(stacks[1].current);
    EXPECT_EQ(stacks[1].frames[0].function, "flush");
}

}  // namespace
}  // namespace hangar
