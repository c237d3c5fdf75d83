# Reproduces nothing: the cheapest Python scenario, for bench/runs_per_second.sh, which
# prices hangar's per-run overhead against bare interpreter launches.
