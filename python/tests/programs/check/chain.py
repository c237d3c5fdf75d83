# main() is called at top level; it calls run(), which starts a Pool: the pool starts at import time.
import multiprocessing
import os


def work(x):
    return os.getpid() + x


def run():
    with multiprocessing.Pool(4) as pool:
        return pool.map(work, range(8))


def main():
    print(len(set(run())))


main()
