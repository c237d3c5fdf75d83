// A stand-in for a debugger that never returns, for the tests that evidence capture kills a
// stuck tool and still finishes, and that an interrupt ends it at once. Whatever its
// arguments, it says it is alive ($HANGAR_TEST_PIDS) and waits forever.
#include <unistd.h>

#include "report_pid.hpp"

int main() {
    report_pid();
    for (;;) pause();
}
