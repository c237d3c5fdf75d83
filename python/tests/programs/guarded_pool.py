# The Pool workflow with its body under the __main__ guard: children import the definitions
# only, so it runs once under every start method. Prints the default start method and the
# result. close() and join(), not terminate(): every worker finishes starting up.
import multiprocessing


def square(x):
    return x * x


if __name__ == "__main__":
    pool = multiprocessing.Pool(3)
    total = sum(pool.map(square, range(10)))
    pool.close()
    pool.join()
    print(multiprocessing.get_start_method(), total)
