# The dask.distributed workflow with its body under the __main__ guard.
from dask.distributed import Client, LocalCluster


def square(x):
    return x * x


if __name__ == "__main__":
    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    client = Client(cluster)
    print("sum of squares:", sum(client.gather(client.map(square, range(10)))))
    client.close()
    cluster.close()
