# The "Before" example of Parsl's "Wrapping your workflows in __main__ protection" post
# (2025): the workflow runs at import time. Read by hangar_check only (parsl need not be installed).
import parsl
from parsl import python_app


@python_app
def my_app(x):
    return x + 1


with parsl.load():
    print(my_app(10).result())
