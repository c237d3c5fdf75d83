# A dask.distributed workflow without a __main__ guard: LocalCluster starts its worker
# processes through a nanny with multiprocessing's spawn context, whatever the default.
from dask.distributed import Client, LocalCluster


def square(x):
    return x * x


cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                       dashboard_address=None)
client = Client(cluster)
print("sum of squares:", sum(client.gather(client.map(square, range(10)))))
client.close()
cluster.close()
