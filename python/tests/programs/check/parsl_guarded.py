# The "After" example of Parsl's __main__ protection post: imports and definitions outside
# the guard, actions inside it. Read by hangar_check only.
import parsl
from parsl import python_app


@python_app
def my_app(x):
    return x + 1


if __name__ == "__main__":
    with parsl.load():
        print(my_app(10).result())
