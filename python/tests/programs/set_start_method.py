# set_start_method at top level without force=True: every spawn or forkserver child re-runs
# it after multiprocessing has set the child's context, and dies with "context has already
# been set". The Process itself is guarded.
import multiprocessing

multiprocessing.set_start_method("spawn")


def child():
    print("child ran")


if __name__ == "__main__":
    process = multiprocessing.Process(target=child)
    process.start()
    process.join()
    print("child exit code", process.exitcode)
