# Reproduces: a ProcessPoolExecutor workflow without a __main__ guard restarts in the spawn/forkserver workers and breaks the pool.
# Seen in: Parsl's "Wrapping your workflows in __main__ protection" post (2025, issue #3723; /work/shared/background/).
import concurrent.futures
import sys


def square(x):
    return x * x


print("HANGAR-WORKFLOW-START", file=sys.stderr, flush=True)
with concurrent.futures.ProcessPoolExecutor(2) as executor:
    results = list(executor.map(square, range(10)))
print("sum of squares:", sum(results))
