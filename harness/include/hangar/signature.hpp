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

// A frame as backtrace_symbols and the preload library write it, "/lib/libc.so.6(__write+0x4f)"
// or "/usr/bin/python3.11+0x22ab10": the function's plain name ("write"), else the module's
// file name and offset ("python3.11+0x22ab10").
std::string symbolised_frame_name(const std::string& frame);

// Lock and wait plumbing (futex waits, lll_lock, pthread_mutex_lock, std::mutex::lock...):
// frames that say something waits, not what.
bool is_lock_plumbing(const std::string& function);

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
