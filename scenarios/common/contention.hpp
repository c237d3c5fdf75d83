// The shape of every stochastic fork race: threads keep doing something that takes a lock
// while the main thread starts a child at a moment that differs from run to run.
#pragma once

#include <functional>
#include <string_view>

namespace scenario {

// Runs `work` in a loop on `threads` threads (a thread stops early when `work` returns
// false). Once every thread has been through it once, waits a random 10-100 ms, so the
// child starts at a different point of the loops from run to run, then calls
// `start_child` while the threads go on, and returns what it returns. The threads stop
// by themselves 100 ms after the child starts (far longer than starting it takes), so a
// parent whose child hangs is left idle in its untimed wait, as stall detection expects.
int start_child_amid(int threads, const std::function<bool()>& work, std::string_view what,
                     const std::function<int()>& start_child);

}  // namespace scenario
