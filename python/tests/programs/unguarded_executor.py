# A ProcessPoolExecutor workflow without a __main__ guard: under spawn and forkserver the
# workers re-run it, die with the "bootstrapping phase" RuntimeError, and the pool breaks
# (BrokenProcessPool, exit 1). Under fork it runs once and passes.
import concurrent.futures


def square(x):
    return x * x


with concurrent.futures.ProcessPoolExecutor(2) as executor:
    results = list(executor.map(square, range(10)))
print("sum of squares:", sum(results))
