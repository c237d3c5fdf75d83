# A joblib workflow without a __main__ guard; the backend is the first argument. joblib's
# default backend, loky, starts its own workers (fork+exec of a fresh interpreter, whatever
# multiprocessing's default is) and does not re-run the main script in them; the
# "multiprocessing" backend uses multiprocessing's default start method.
import sys

from joblib import Parallel, delayed


def square(x):
    return x * x


backend = sys.argv[1] if len(sys.argv) > 1 else "loky"
results = Parallel(n_jobs=2, backend=backend)(delayed(square)(i) for i in range(10))
print(backend, sum(results))
