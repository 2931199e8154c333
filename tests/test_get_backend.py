"""``get_backend()``: the nydus-like client applications used with 0.6.x.

Keyed commands go to the key's ring host (placements taken from layout.json's
``raw_set`` records), keyless ones run on every host, and ``map()`` batches.
What it writes is read back through plain clients of each database.
"""
import datetime

import pytest

from analytics.stores.ring import Deferred

THREE_DBS = [3, 4, 5]


@pytest.fixture
def cluster(backend):
    return backend.get_backend()


def where(server, key, dbs=THREE_DBS):
    return [index for index, db in enumerate(dbs) if server.client(db).exists(key)]


def test_hosts(cluster):
    assert len(cluster) == 3
    assert sorted(cluster.hosts) == [0, 1, 2]
    assert [client.connection_pool.connection_kwargs["db"] for client in cluster] == THREE_DBS


# Host indexes recorded by 0.6.5 for these raw SETs on three_hosts (layout.json).
@pytest.mark.parametrize("key, host", [
    ("foo", 2), ("_analytics:analy:1:count:x", 2), ("myappx:other", 1), ("xmyapp", 0), ("_analyticsfoo", 0),
    ("analytics:x", 1),
])
def test_keyed_commands_go_to_the_ring_host(flushed, cluster, key, host):
    assert cluster.set(key, "v") is True
    assert where(flushed, key) == [host]
    assert cluster.get(key) == "v"
    assert cluster.get_conn(key) is cluster.hosts[host]
    assert cluster.host_index(key) == host


def test_reads_what_the_backend_wrote(backend, cluster):
    backend.track_metric("user:1234", "comments", datetime.date(2012, 6, 15), inc_amt=3)
    assert cluster.hget("_analytics:user:user:1234:analy:12-06", "comments:12-06-15") == "3"
    assert cluster.hgetall("_analytics:user:user:1234:analy:12") == {"comments:12-06-11": "3", "comments:12-06": "3"}
    assert cluster.get("_analytics:analy:user:1234:count:comments") == "3"


def test_keyless_commands_run_everywhere(flushed, cluster):
    for db in THREE_DBS:
        flushed.client(db).set("k%d" % db, "1")
    flushed.client(3).set("extra", "1")
    assert cluster.ping() == [True, True, True]
    assert cluster.dbsize() == [2, 1, 1]
    assert [sorted(keys) for keys in cluster.keys("*")] == [["extra", "k3"], ["k4"], ["k5"]]
    cluster.flushdb()
    assert cluster.dbsize() == [0, 0, 0]


def test_map_batches_and_resolves_after_the_block(flushed, cluster):
    cluster.set("foo", "bar")
    with cluster.map() as conn:
        counted = [conn.incr("counter:%d" % i) for i in range(20)]
        again = conn.incr("counter:0")
        read = conn.get("foo")
        missing = conn.get("nothing")
        with pytest.raises(RuntimeError):
            _ = read.value
    assert all(isinstance(d, Deferred) for d in counted)
    assert counted[0] == 1 and again == 2 and int(again) == 2
    assert [d.value for d in counted[1:]] == [1] * 19
    assert read == "bar" and missing.value is None
    # Each counter sits on its own ring host only.
    assert all(len(where(flushed, "counter:%d" % i)) == 1 for i in range(20))
    assert len({cluster.host_index("counter:%d" % i) for i in range(20)}) == 3


def test_one_host(one_host):
    from analytics.backends.redis import Redis

    backend = Redis(one_host)
    try:
        cluster = backend.get_backend()
        assert len(cluster) == 1
        cluster.set("foo", "bar")
        assert cluster.dbsize() == [1]
        assert cluster.get_conn("anything") is cluster.hosts[0]
    finally:
        backend.store.close()


def test_a_down_host_raises_the_library_error_naming_it():
    from analytics.backends.redis import Redis
    from analytics.errors import HostUnavailableError
    from servers import RedisServer

    up, down = RedisServer().start(), RedisServer().start()
    settings = {"hosts": [{"host": "127.0.0.1", "port": server.port, "timeout": 0.5} for server in (up, down)]}
    backend = Redis(settings)
    try:
        cluster = backend.get_backend()
        down_name = "redis://127.0.0.1:%d/0" % down.port
        on_down = next(key for key in ("k%d" % i for i in range(100)) if cluster.host_index(key) == 1)
        on_up = next(key for key in ("k%d" % i for i in range(100)) if cluster.host_index(key) == 0)
        down.stop()
        for call in (lambda: cluster.get(on_down), lambda: cluster.dbsize()):
            with pytest.raises(HostUnavailableError) as caught:
                call()
            assert caught.value.host == down_name and down_name in str(caught.value)
        # Whichever host comes first in the batch, the live one runs its commands.
        for first, second in ((on_up, on_down), (on_down, on_up)):
            cluster.delete(on_up)
            with pytest.raises(HostUnavailableError, match=down_name.replace("/", ".")):
                with cluster.map() as conn:
                    conn.set(first, "1")
                    conn.set(second, "1")
            assert cluster.get(on_up) == "1"
    finally:
        backend.store.close()
        up.cleanup()
        down.cleanup()
