# The guarded Pool workflow as a module run with `python3 -m flowpkg.flow`: spawn and
# forkserver children re-import it by name (runpy.run_module), not by path.
import multiprocessing


def square(x):
    return x * x


if __name__ == "__main__":
    with multiprocessing.Pool(2) as pool:
        total = sum(pool.map(square, range(10)))
    print(multiprocessing.get_start_method(), total)
