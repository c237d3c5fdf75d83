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
//
// With `attempts` > 1, a child that exits 0 is followed by another one amid a fresh round of
// the threads (a shorter random wait of 1-10 ms, threads stopping 20 ms after), up to `attempts` children: a race
// that nearly always hangs a forked child on a quiet machine can miss on a loaded one, and a
// run should then say whether the hang happens at all, not how lucky one fork was. Returns at
// the first child that does not exit 0; a child that hangs never returns.
int start_child_amid(int threads, const std::function<bool()>& work, std::string_view what,
                     const std::function<int()>& start_child, int attempts = 1);

}  // namespace scenario
