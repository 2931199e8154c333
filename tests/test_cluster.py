"""The Redis backend on a real 3-primary Redis Cluster.

Where a key lives is asked of the servers themselves (``CLUSTER KEYSLOT`` and
``CLUSTER SLOTS``), never computed with the library's or redis-py's code, so
the round-trip counts and placements below are independent expectations.
"""
import datetime
import os
import signal
import subprocess
import time

import pytest
import redis
from redis.cluster import ClusterNode, RedisCluster

from cluster_servers import redis_cli_binary, report
from servers import RedisServer, free_port

from analytics.backends.redis import Redis
from analytics.errors import ConfigurationError, HostTimeoutError, HostUnavailableError
from analytics.stores.cluster import ClusterStore

pytestmark = pytest.mark.cluster

DAY = datetime.date(2012, 6, 15)


def owners(cluster):
    """``slot -> port`` of the primary serving it, as the first node reports it."""
    with cluster.node_client(cluster.primary_ports()[0]) as client:
        ranges = client.execute_command("CLUSTER SLOTS")
    table = {}
    for entry in ranges:
        for slot in range(int(entry[0]), int(entry[1]) + 1):
            table[slot] = int(entry[2][1])
    return table


def owner_of(cluster, key, table=None):
    with cluster.node_client(cluster.primary_ports()[0]) as client:
        slot = client.execute_command("CLUSTER KEYSLOT", key)
    return (table or owners(cluster))[slot]


def nodes_for(cluster, keys):
    table = owners(cluster)
    return {owner_of(cluster, key, table) for key in keys}


def all_keys(cluster):
    """``{key: port}`` for every key on every primary."""
    found = {}
    for port in cluster.primary_ports():
        with cluster.node_client(port) as client:
            for key in client.scan_iter(count=1000):
                found[key] = port
    return found


@pytest.fixture
def backend(cluster):
    instance = Redis({"cluster": cluster.url(0), "options": {"timeout": 2}})
    yield instance
    instance.store.close()


# -- settings -----------------------------------------------------------------


@pytest.mark.parametrize("settings, named", [
    ({"cluster": "redis://127.0.0.1:7000", "hosts": [{"db": 1}]}, "got hosts and cluster"),
    ({"cluster": "redis://127.0.0.1:7000", "client": object()}, "got cluster and client"),
    ({"options": {"timeout": 1}}, "settings['options'] only applies"),
    ({"cluster": "redis://127.0.0.1:7000", "defaults": {}}, "settings['defaults'] only applies"),
    ({"cluster": "redis://127.0.0.1:7000", "options": {"bogus": 1}}, "'bogus'"),
    ({"cluster": "redis://127.0.0.1:7000", "options": {"db": 2}}, "'db'"),
    ({"cluster": "redis://127.0.0.1:7000", "options": {"retry": None}}, "'retry'"),
    ({"cluster": "redis://127.0.0.1:7000", "options": {"timeout": -1}}, "timeout"),
    ({"cluster": "redis://127.0.0.1:7000", "options": ["timeout"]}, "settings['options'] must be a dict"),
    ({"cluster": "redis://127.0.0.1:7000/3"}, "only database 0"),
    ({"cluster": "redis://127.0.0.1:7000?identifier=x"}, "'identifier'"),
    ({"cluster": "unix:///tmp/redis.sock"}, "needs a host and port"),
    ({"cluster": "http://127.0.0.1:7000"}, "scheme"),
    ({"cluster": []}, "non-empty list"),
    ({"cluster": 7000}, "settings['cluster'] must be"),
    ({"cluster": ["redis://127.0.0.1:7000", "rediss://127.0.0.1:7001"]}, "all startup nodes of a cluster share"),
    ({"cluster": ["redis://:a@127.0.0.1:7000", "redis://:b@127.0.0.1:7001"]}, "all startup nodes of a cluster share"),
    ({"unknown": 1}, "'unknown'"),
])
def test_settings_are_checked_before_connecting(settings, named):
    # Port 7000 is never started by the tests: a connection attempt would fail differently.
    with pytest.raises(ValueError) as raised:
        Redis(settings)
    assert isinstance(raised.value, ConfigurationError)
    assert named in str(raised.value)


def test_unreachable_cluster_is_a_clear_error_within_the_timeout():
    port = free_port()
    began = time.monotonic()
    with pytest.raises(HostUnavailableError) as raised:
        Redis({"cluster": "redis://127.0.0.1:%d" % port, "options": {"timeout": 1}})
    assert time.monotonic() - began < 2
    assert "127.0.0.1:%d" % port in str(raised.value)
    assert isinstance(raised.value, redis.exceptions.ConnectionError)


def test_get_backend_is_the_redis_cluster_client(cluster, backend):
    native = backend.get_backend()
    assert isinstance(native, RedisCluster)
    backend.track_metric("user:1234", "comments", DAY)
    assert native.get("_analytics:analy:user:1234:count:comments") == "1"
    assert sorted(node.port for node in native.get_primaries()) == cluster.primary_ports()


def test_a_list_of_startup_nodes_may_include_a_dead_one(cluster):
    dead = "redis://127.0.0.1:%d" % free_port()
    backend = Redis({"cluster": [dead, cluster.url(1)], "options": {"timeout": 1}})
    try:
        assert backend.track_count("u", "m", 4) == 4
    finally:
        backend.store.close()


def test_an_application_cluster_client_is_used_as_is(cluster):
    client = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", cluster.ports[2])])
    backend = Redis({"client": client})
    try:
        assert isinstance(backend.store, ClusterStore)
        assert backend.get_backend() is client
        assert backend.track_metric("u", "m", DAY, inc_amt=2) == [[2, 2, 2, 2]]
        assert backend.get_metric_by_day("u", "m", DAY, limit=1) == ({"2012-06-15"}, {"2012-06-15": 2})
        # This client does not decode replies: the raw bytes are what Redis holds.
        assert client.get("_analytics:analy:u:count:m") == b"2"
    finally:
        client.close()


# -- keys, placement, round trips ---------------------------------------------


def test_keys_keep_their_065_names_on_the_node_owning_their_slot(cluster, backend):
    backend.track_metric("user:1234", "comments", DAY)
    backend.track_metric("user:1234", "comments", datetime.date(2013, 1, 1), inc_amt=2)
    expected = {
        "_analytics:user:user:1234:analy:12-06": {"comments:12-06-15": "1"},
        "_analytics:user:user:1234:analy:12": {"comments:12-06-11": "1", "comments:12-06": "1"},
        "_analytics:user:user:1234:analy:13-01": {"comments:13-01-01": "2"},
        "_analytics:user:user:1234:analy:13": {"comments:12-12-31": "2", "comments:13-01": "2"},
        "_analytics:analy:user:1234:count:comments": "3",
    }
    found = all_keys(cluster)
    assert set(found) == set(expected)
    table = owners(cluster)
    for key, value in expected.items():
        assert found[key] == owner_of(cluster, key, table)
        with cluster.node_client(found[key]) as client:
            assert (client.get(key) if isinstance(value, str) else client.hgetall(key)) == value
    # Five keys over three primaries: at least two nodes hold some (no hash tags pin them together).
    assert len(set(found.values())) >= 2


def _calls():
    """``(name, call, keys of each batch it sends)``: the keys are written out by hand."""
    month = "_analytics:user:u:analy:12-06"
    year = "_analytics:user:u:analy:12"
    counter = "_analytics:analy:u:count:m"
    return [
        ("track_metric 1 pair", lambda b: b.track_metric("u", "m", DAY), [[month, year, counter]]),
        ("track_metric 2 uids x 2 metrics", lambda b: b.track_metric(["u", "v"], ["m", "n"], DAY),
         [[month, year, counter, "_analytics:analy:u:count:n", "_analytics:user:v:analy:12-06",
           "_analytics:user:v:analy:12", "_analytics:analy:v:count:m", "_analytics:analy:v:count:n"]]),
        ("track_count", lambda b: b.track_count("u", "m"), [[counter]]),
        ("get_metric_by_day 10 days", lambda b: b.get_metric_by_day("u", "m", DAY, 10), [[month]]),
        ("get_metric_by_day 30 days over 2 months", lambda b: b.get_metric_by_day("u", "m", DAY, 30),
         [[month, "_analytics:user:u:analy:12-07"]]),
        ("get_metric_by_week across a year end",
         lambda b: b.get_metric_by_week("u", "m", datetime.date(2012, 12, 24), 2),
         [[year, "_analytics:user:u:analy:13"]]),
        ("get_metric_by_month", lambda b: b.get_metric_by_month("u", "m", DAY, 3), [[year]]),
        ("get_count", lambda b: b.get_count("u", "m"), [[counter]]),
        ("get_count over days", lambda b: b.get_count("u", "m", start_date=DAY, end_date=datetime.date(2012, 6, 20)),
         [[month]]),
        ("get_counts 4 pairs", lambda b: b.get_counts([("u", "m"), ("u", "n"), ("v", "m"), ("v", "n")]),
         [[counter, "_analytics:analy:u:count:n", "_analytics:analy:v:count:m", "_analytics:analy:v:count:n"]]),
        ("get_metrics 2 pairs by day", lambda b: b.get_metrics([("u", "m"), ("v", "m")], DAY, 5, "day"),
         [[month, "_analytics:user:v:analy:12-06"]]),
        # 2012-06-13 is a Wednesday: its week (06-11..06-17) and month lie in June.
        ("set_metric_by_day (read+swap, then write)",
         lambda b: b.set_metric_by_day("u", "m", datetime.date(2012, 6, 13), 5),
         [[month], [year, counter]]),
        ("sync_agg_metric one week",
         lambda b: b.sync_agg_metric("u", "m", datetime.date(2012, 6, 11), datetime.date(2012, 6, 17)),
         [[month], [year]]),
    ]


def test_every_call_costs_one_round_trip_per_node_it_touches(request, cluster, backend):
    backend.track_metric(["u", "v"], ["m", "n"], DAY, inc_amt=3)
    measured = []
    for name, call, batches in _calls():
        expected = sum(len(nodes_for(cluster, keys)) for keys in batches)
        before = backend.store.round_trips
        call(backend)
        spent = backend.store.round_trips - before
        measured.append("%s=%d" % (name, spent))
        assert spent == expected, name
        assert spent <= 3 * len(batches), name
    assert backend.store.topology_refreshes == 0
    report(request.config, "\nround trips per call on the 3-primary cluster: " + ", ".join(measured))


def test_clear_all_deletes_the_prefixed_keys_on_every_primary(cluster, backend):
    table = owners(cluster)
    planted = {}
    index = 0
    while len(set(planted.values())) < 3:
        key = "_analytics:planted:%d" % index
        planted[key] = owner_of(cluster, key, table)
        index += 1
    keep = {"_analyticsfoo": "1", "other:key": "2", "myapp:_analytics:x": "3"}
    for key, port in planted.items():
        with cluster.node_client(port) as client:
            client.set(key, "x")
    for key, value in keep.items():
        with cluster.node_client(owner_of(cluster, key, table)) as client:
            client.set(key, value)
    backend.track_metric("u", "m", DAY)
    backend.clear_all()
    assert {key: port for key, port in all_keys(cluster).items()} == {
        key: owner_of(cluster, key, table) for key in keep}


# -- redirections ---------------------------------------------------------------


def _other_primary(cluster, port):
    return next(p for p in cluster.primary_ports() if p != port)


def _node_id(cluster, port):
    with cluster.node_client(port) as client:
        return client.execute_command("CLUSTER MYID")


def _begin_migration(cluster, key):
    """Mark ``key``'s slot migrating to another primary; return (slot, source, target)."""
    source = owner_of(cluster, key)
    target = _other_primary(cluster, source)
    with cluster.node_client(source) as client:
        slot = client.execute_command("CLUSTER KEYSLOT", key)
    with cluster.node_client(target) as client:
        client.execute_command("CLUSTER SETSLOT", slot, "IMPORTING", _node_id(cluster, source))
    with cluster.node_client(source) as client:
        client.execute_command("CLUSTER SETSLOT", slot, "MIGRATING", _node_id(cluster, target))
    return slot, source, target


def _move_keys(cluster, source, target, slot):
    with cluster.node_client(source) as client:
        for key in client.execute_command("CLUSTER GETKEYSINSLOT", slot, 1000):
            client.execute_command("MIGRATE", "127.0.0.1", target, key, 0, 2000)


def _finish_migration(cluster, slot, target):
    owner = _node_id(cluster, target)
    for port in cluster.primary_ports():
        with cluster.node_client(port) as client:
            client.execute_command("CLUSTER SETSLOT", slot, "NODE", owner)


def _migrate(cluster, key):
    slot, source, target = _begin_migration(cluster, key)
    _move_keys(cluster, source, target, slot)
    _finish_migration(cluster, slot, target)
    return slot, source, target


def test_moved_reply_resends_only_the_refused_commands(cluster, backend):
    counter = "_analytics:analy:u:count:m"
    backend.track_metric("u", "m", DAY)
    slot, source, target = _migrate(cluster, counter)
    try:
        refreshes, trips = backend.store.topology_refreshes, backend.store.round_trips
        # The store still routes the counter to `source`, which answers MOVED.
        first = len(nodes_for(cluster, ["_analytics:user:u:analy:12-06", "_analytics:user:u:analy:12"]) | {source})
        assert backend.track_metric("u", "m", DAY) == [[2, 2, 2, 2]]
        assert backend.store.topology_refreshes == refreshes + 1
        assert backend.store.round_trips == trips + first + 1
        with cluster.node_client(target) as client:
            assert client.get(counter) == "2"
        with cluster.node_client(source) as client, pytest.raises(redis.exceptions.MovedError):
            client.get(counter)
        # The refreshed slot map sends the next call straight to the new owner.
        trips = backend.store.round_trips
        assert backend.get_count("u", "m") == 2
        assert backend.store.round_trips == trips + 1
    finally:
        _migrate(cluster, counter)


def test_ask_reply_is_followed_for_a_key_already_migrated(cluster, backend):
    counter = "_analytics:analy:w:count:m"
    assert backend.track_count("w", "m", 5) == 5
    slot, source, target = _begin_migration(cluster, counter)
    try:
        _move_keys(cluster, source, target, slot)
        refreshes, trips = backend.store.topology_refreshes, backend.store.round_trips
        assert backend.track_count("w", "m", 2) == 7
        # ASK is a one-off redirection: no reload of the slot map, one extra round trip.
        assert backend.store.topology_refreshes == refreshes
        assert backend.store.round_trips == trips + 2
        with cluster.node_client(target) as client:
            # An importing node serves the slot only to a client that says ASKING first.
            pipe = client.pipeline(transaction=False)
            pipe.execute_command("ASKING").get(counter)
            assert pipe.execute() == [True, "7"]
    finally:
        _finish_migration(cluster, slot, target)
        _migrate(cluster, counter)


# -- moving a host list into a cluster --------------------------------------------------


def test_redis_cli_import_moves_a_host_list_into_the_cluster_with_keys_unchanged(cluster):
    """The README's procedure: ``redis-cli --cluster import`` per host, then the same reads."""
    hosts = [RedisServer().start() for _ in range(2)]
    # The second host uses database 3, as 0.6.x setups often did: import reads database 0 only.
    dbs = [0, 3]
    try:
        old = Redis({"hosts": ["redis://127.0.0.1:%d/%d" % (host.port, db) for host, db in zip(hosts, dbs)]})
        old.track_metric(["user:1", "user:2", 3], ["comments", "likes"], DAY, inc_amt=2)
        old.track_metric("user:1", "comments", datetime.date(2013, 1, 1))
        old.track_count("user:2", "logins", 5)
        before = [host.client(db).dbsize() for host, db in zip(hosts, dbs)]
        assert all(before), "the ring should have put keys on both hosts"
        for host, db in zip(hosts, dbs):
            if db:
                host.client().swapdb(0, db)
            done = subprocess.run(
                [redis_cli_binary(), "--cluster", "import", "127.0.0.1:%d" % cluster.ports[0],
                 "--cluster-from", "127.0.0.1:%d" % host.port, "--cluster-copy"],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
            assert done.returncode == 0, done.stdout.decode(errors="replace")
            if db:
                host.client().swapdb(0, db)
        new = Redis({"cluster": cluster.url(0)})
        pairs = [(uid, metric) for uid in ("user:1", "user:2", 3) for metric in ("comments", "likes")]
        assert new.get_counts(pairs + [("user:2", "logins")]) == [3, 2, 2, 2, 2, 2, 5]
        for uid, metric in pairs:
            assert new.get_metric_by_week(uid, metric, DAY, 30) == old.get_metric_by_week(uid, metric, DAY, 30)
        assert len(all_keys(cluster)) == sum(before)
        assert [host.client(db).dbsize() for host, db in zip(hosts, dbs)] == before
        old.store.close()
        new.store.close()
    finally:
        for host in hosts:
            host.cleanup()


# -- a node that stops answering ---------------------------------------------------------


def test_a_hung_primary_times_out_and_its_batch_is_never_resent(cluster):
    """A paused primary: the call raises within the timeout; the batch, applied late, counts once."""
    counter = "_analytics:analy:h:count:m"
    port = owner_of(cluster, counter)
    server = cluster.server_on(port)
    backend = Redis({"cluster": cluster.url(0), "options": {"timeout": 0.3}})
    try:
        assert backend.track_count("h", "m") == 1
        os.kill(server.process.pid, signal.SIGSTOP)
        try:
            began = time.monotonic()
            with pytest.raises(HostTimeoutError) as raised:
                backend.track_count("h", "m")
            waited = time.monotonic() - began
        finally:
            os.kill(server.process.pid, signal.SIGCONT)
        # Paused for less than cluster-node-timeout, so the cluster never marked it failed.
        assert 0.25 < waited < 0.9
        assert "127.0.0.1:%d" % port in str(raised.value) and raised.value.applied is None
        # The paused server ran the command once it resumed; nothing sent it again.
        assert backend.track_count("h", "m") == 3
    finally:
        backend.store.close()
