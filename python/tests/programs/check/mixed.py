# Actions at top level in loops, try blocks and a class body, a Thread subclass, a config
# file read, with definitions between the actions.
import json
import socket
import subprocess
import threading
from joblib import Parallel, delayed

with open("config.json") as f:
    CONFIG = json.load(f)


class Ticker(threading.Thread):
    def run(self):
        pass


LOG = open("run.log", "w")
Ticker().start()


def square(x):
    return x * x


for host in CONFIG.get("hosts", []):
    try:
        socket.create_connection((host, 22), timeout=1)
    except OSError:
        subprocess.run(["ping", "-c1", host])

print(Parallel(n_jobs=2)(delayed(square)(i) for i in range(4)))
LOG.close()
