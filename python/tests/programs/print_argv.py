# Reads sys.argv at top level and in a child: both must see the command line's arguments.
import json
import multiprocessing
import sys


def child(queue):
    queue.put(sys.argv[1:])


if __name__ == "__main__":
    queue = multiprocessing.Queue()
    process = multiprocessing.Process(target=child, args=(queue,))
    process.start()
    in_child = queue.get(timeout=30)
    process.join()
    print(json.dumps({"parent": sys.argv[1:], "child": in_child}))
