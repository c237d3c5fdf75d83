# Actions reached through import aliases, from-imports, a context and attribute chains.
import concurrent.futures as cf
import multiprocessing as mp
import threading as th
from concurrent.futures import ProcessPoolExecutor as PPE
from parsl import load as parsl_load

mp.set_start_method("forkserver", force=True)
ctx = mp.get_context("spawn")
pool = ctx.Pool(2)
executor = PPE(max_workers=2)
threads = cf.ThreadPoolExecutor()
ticker = th.Thread(target=print, daemon=True)
ticker.start()
dfk = parsl_load(None)
queue = mp.get_context("fork").Queue()
