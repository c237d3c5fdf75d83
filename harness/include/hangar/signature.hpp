// A hang signature: a short, stable name for where a hung thread waits, built from the
// innermost meaningful frames, so runs that hang at the same place group together.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace hangar {

// Where each module of a process is loaded (path -> load base), from /proc/PID/maps: the
// lowest mapping's start minus its file offset.
using ModuleBases = std::map<std::string, uint64_t>;
ModuleBases module_bases(const std::string& proc_maps);

// Function names of one thread's stack from `eu-stack -p PID` output (with or without -m),
// innermost first, with symbol versions (@GLIBC_2.2.5) cut and C++ names demangled. tid 0:
// the first thread listed. A frame without a name is shown by its module, as
// "libgomp.so.1+0x1a2b0" when `bases` knows where the module is loaded (eu-stack -m names
// modules), as "libgomp.so.1" when not, and skipped without -m; a run of such frames in one
// module is kept as its innermost.
std::vector<std::string> native_frames(const std::string& eu_stack_output, pid_t tid = 0,
                                       const ModuleBases* bases = nullptr);

// "outer > inner" from the two innermost frames that are not lock or futex plumbing
// (futex waits, lll_lock, pthread_mutex_lock, sem_wait, std::mutex::lock...), e.g.
// "getaddrinfo > __check_pf". When those are only `main` and the start-up frames
// (_start, __libc_start_call_main), the library call `main` waits in is named instead:
// "main > pthread_mutex_lock". Empty when nothing meaningful is left.
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

// The same, each with the thread's identifier as faulthandler prints it ("Thread
// 0x00007f4ad1f2d6c0": pthread_self(), the address of glibc's struct pthread), in the
// dump's order.
struct PythonThreadStack {
    uint64_t thread = 0;
    bool current = false;
    std::vector<PythonFrame> frames;
};
std::vector<PythonThreadStack> python_thread_stacks(const std::string& faulthandler_output);

// "logging/__init__.py:flush" from the innermost frame outside threading.py's waits:
// standard library files keep their path below pythonX.Y/, others only their name.
std::string python_signature(const std::vector<PythonFrame>& frames);

}  // namespace hangar
