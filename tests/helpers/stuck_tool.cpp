// A stand-in for a debugger that never returns, for the test that evidence capture kills a
// stuck tool and still finishes. Whatever its arguments, it waits forever.
#include <unistd.h>

int main() {
    for (;;) pause();
}
