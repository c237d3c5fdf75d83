// Where an interpreter binary keeps CPython's GIL, learnt by watching it, so that a thread
// waiting for the GIL can be told from any other timed wait.
//
// A thread that wants the GIL waits in take_gil on the GIL's condition variable with a
// 5 ms timeout, again and again until the holder releases it; on each timeout it only
// asks the holder to drop it. From /proc that is a timed private futex wait, like any
// wait with a deadline, and its CPU time moves. Only its address tells it apart: the
// condition variable lives in the interpreter's static state (_PyRuntime), at a fixed
// offset of one file (the python executable, or its libpython).
//
// Calibration, once per interpreter binary and hangar process: hangar runs that binary on
// a tiny program whose main thread holds the GIL inside a C call (ctypes.PyDLL keeps it)
// while two other threads want it, reads the two waiters' futex addresses from /proc, and
// keeps the file and offset of the mapping they lie in. Both must wait on the same
// pthread_cond_t (glibc's condvar waits on __g_signals[0] or [1], at offsets 40 and 44).
// Only processes running the same executable file use the result.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "hangar/process_facts.hpp"

namespace hangar {

struct GilSite {
    FileId module;             // the file whose mapping holds the GIL
    uint64_t cond_offset = 0;  // the GIL's pthread_cond_t, as an offset into that file
};

// The GIL of the interpreter at `exe_path` (whose identity is `exe`), calibrated on first
// use and remembered, failures included. nullopt when it could not be learnt.
std::optional<GilSite> gil_site(const std::string& exe_path, const FileId& exe);

// Whether `p`'s futex word at `address` is its GIL's condition variable.
bool is_gil_wait(ProcessFacts& p, uint64_t address);

// The identity of a mapping's file, from /proc/PID/maps' "major:minor" and inode.
FileId mapping_file(const Mapping& m);

}  // namespace hangar
