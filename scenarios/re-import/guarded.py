# Reproduces: the fix for a workflow re-run in every spawn/forkserver child: the body guarded by `__main__`.
# Seen in: Parsl's "Wrapping your workflows in __main__ protection" post (2025, issue #3723; /work/shared/background/).
import multiprocessing
import sys


def square(x):
    return x * x


if __name__ == "__main__":
    print("HANGAR-WORKFLOW-START", file=sys.stderr, flush=True)
    with multiprocessing.Pool(2) as pool:
        results = pool.map(square, range(10))
    print("sum of squares:", sum(results))
