// Honest numbers for races: a hang rate with its uncertainty, and timing percentiles.
#pragma once

#include <vector>

namespace hangar {

struct Interval {
    double low = 0, high = 1;
};

// Wilson score interval, 95%, for k successes in n trials: unlike the normal
// approximation it stays inside [0, 1] and is sensible at k = 0 or k = n with few runs.
Interval wilson95(int k, int n);

// Nearest-rank percentile (q in [0, 1]) of `values`; 0 for no values.
double percentile(std::vector<double> values, double q);

}  // namespace hangar
