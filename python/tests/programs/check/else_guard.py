# Guards written the other way round: the `else` of `!=` is guarded, the body of `!=` is not,
# and the `else` of `==` is not.
import subprocess


def child():
    pass


if __name__ != "__main__":
    log = open("child.log", "a")
else:
    subprocess.run(["true"])

if "__main__" == __name__:
    subprocess.run(["true"])
else:
    subprocess.run(["echo", "re-imported"])
