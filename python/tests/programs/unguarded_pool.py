# A multiprocessing.Pool workflow without a __main__ guard: under spawn and forkserver every
# worker re-runs it, fails with the "bootstrapping phase" RuntimeError, and the pool replaces
# the worker forever (the run never ends). Under fork it runs once and passes.
import multiprocessing


def square(x):
    return x * x


pool = multiprocessing.Pool(2)
print("sum of squares:", sum(pool.map(square, range(10))))
pool.close()
pool.join()
