#include "hangar/findings.hpp"

#include <gtest/gtest.h>

namespace hangar {
namespace {

// Trimmed from a real run of getpwent-tsan under spawn on this machine.
const char* kTsan = R"(==================
WARNING: ThreadSanitizer: data race (pid=2)
  Write of size 8 at 0x7f84bcff8980 by thread T2:
    #0 getpwent ../../../../src/libsanitizer/sanitizer_common/sanitizer_common_interceptors.inc:2022 (libtsan.so.2+0x404bc)
    #1 enumerate_passwd /work/main/scenarios/nss-lock/getpwent.cpp:30 (getpwent-tsan+0x2bb4)
    #2 operator() /work/main/scenarios/nss-lock/getpwent.cpp:55 (getpwent-tsan+0x2bb4)
    #3 __invoke_impl<void, main(int, char**)::<lambda()> > /usr/include/c++/12/bits/invoke.h:61 (getpwent-tsan+0x2bb4)

  Previous write of size 8 at 0x7f84bcff8980 by thread T1:
    #0 getpwent ../../../../src/libsanitizer/sanitizer_common/sanitizer_common_interceptors.inc:2022 (libtsan.so.2+0x404bc)

SUMMARY: ThreadSanitizer: data race /work/main/scenarios/nss-lock/getpwent.cpp:30 in enumerate_passwd
==================
)";

const char* kAsan = R"(=================================================================
==12==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000010 at pc 0x55 bp 0x7ff sp 0x7ff
READ of size 4 at 0x602000000010 thread T0
    #0 0x55d0 in main /tmp/uaf.cpp:5
    #1 0x7f00 in __libc_start_call_main ../sysdeps/nptl/libc_start_call_main.h:58

SUMMARY: AddressSanitizer: heap-use-after-free /tmp/uaf.cpp:5 in main
)";

TEST(Findings, ParsesThreadSanitizerReports) {
    auto f = parse_findings(kTsan);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].tool, "ThreadSanitizer");
    EXPECT_EQ(f[0].kind, "data race");
    EXPECT_EQ(f[0].summary, "data race /work/main/scenarios/nss-lock/getpwent.cpp:30 in enumerate_passwd");
    ASSERT_EQ(f[0].frames.size(), 3u);
    EXPECT_EQ(f[0].frames[1], "enumerate_passwd");
}

TEST(Findings, ParsesAddressSanitizerAndUndefinedBehaviourReports) {
    auto f = parse_findings(std::string(kAsan) + "/tmp/x.cpp:3:9: runtime error: signed integer overflow\n");
    ASSERT_EQ(f.size(), 2u);
    EXPECT_EQ(f[0].tool, "AddressSanitizer");
    EXPECT_EQ(f[0].kind, "heap-use-after-free");
    EXPECT_EQ(f[0].frames.at(0), "main");
    EXPECT_EQ(f[1].tool, "UndefinedBehaviorSanitizer");
    EXPECT_EQ(f[1].summary, "signed integer overflow at /tmp/x.cpp:3:9");
    EXPECT_TRUE(parse_findings("HANGAR-MARK: nothing to see\n").empty());
}

}  // namespace
}  // namespace hangar
