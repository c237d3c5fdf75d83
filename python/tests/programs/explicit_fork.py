# Chooses its start method explicitly with get_context("fork"): whatever default hangar
# sets, its children are forked.
import multiprocessing


def child():
    pass


if __name__ == "__main__":
    context = multiprocessing.get_context("fork")
    process = context.Process(target=child)
    process.start()
    process.join()
    print(multiprocessing.get_start_method(), process.exitcode)
