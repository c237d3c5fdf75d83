// A hang signature: a short, stable name for where a hung thread waits, built from the
// innermost meaningful frames, so runs that hang at the same place group together.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace hangar {

// Function names of one thread's stack from `eu-stack -p PID` output, innermost first,
// with symbol versions (@GLIBC_2.2.5) cut and C++ names demangled. Frames without a name
// are skipped. tid 0: the first thread listed.
std::vector<std::string> native_frames(const std::string& eu_stack_output, pid_t tid = 0);

// "outer > inner" from the two innermost frames that are not lock or futex plumbing
// (futex waits, lll_lock, pthread_mutex_lock, sem_wait, std::mutex::lock...), e.g.
// "getaddrinfo > __check_pf". Empty when nothing meaningful is left.
std::string native_signature(const std::vector<std::string>& frames);

struct PythonFrame {
    std::string file;
    int line = 0;
    std::string function;
};

// The stacks in a faulthandler dump ("Fatal Python error: ..."), one per thread, the
// "Current thread" first; frames innermost first.
std::vector<std::vector<PythonFrame>> python_stacks(const std::string& faulthandler_output);

// "logging/__init__.py:flush" from the innermost frame outside threading.py's waits:
// standard library files keep their path below pythonX.Y/, others only their name.
std::string python_signature(const std::vector<PythonFrame>& frames);

}  // namespace hangar
