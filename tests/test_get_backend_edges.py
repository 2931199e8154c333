"""Issue 14, H: ``get_backend()`` on a host list answers as one server would, or refuses.

Placements are 0.6.5's, recorded in layout.json (see test_get_backend.py):
"foo" on host 2, "myappx:other" and "analytics:x" on host 1, "xmyapp" and
"_analyticsfoo" on host 0.  Where keys really are is read with plain clients.
"""
import pytest
import redis.exceptions

from analytics.backends.redis import Redis
from analytics.stores.ring import CrossHostCommandError, Deferred

THREE_DBS = [3, 4, 5]
PLACED = {"foo": 2, "myappx:other": 1, "analytics:x": 1, "xmyapp": 0, "_analyticsfoo": 0}


@pytest.fixture
def cluster(backend):
    return backend.get_backend()


def where(server, key):
    return [index for index, db in enumerate(THREE_DBS) if server.client(db).exists(key)]


def contents(server):
    return [{key: server.client(db).get(key) for key in server.client(db).keys("*")} for db in THREE_DBS]


@pytest.fixture
def spread(flushed, cluster):
    """One value on each host: "xmyapp" on 0, "myappx:other" on 1, "foo" on 2."""
    for key, host in (("xmyapp", 0), ("myappx:other", 1), ("foo", 2)):
        flushed.client(THREE_DBS[host]).set(key, "v%d" % host)
    return flushed


@pytest.mark.parametrize("key, host", sorted(PLACED.items()))
def test_bytes_keys_are_placed_as_their_text(flushed, cluster, key, host):
    raw = key.encode("utf-8")
    assert cluster.host_index(raw) == host
    assert cluster.set(raw, "v") is True
    assert where(flushed, key) == [host]
    assert cluster.get(raw) == "v"
    assert cluster.get_conn(raw) is cluster.hosts[host]


def test_bytes_keys_inside_map(flushed, cluster):
    with cluster.map() as conn:
        for key in PLACED:
            conn.set(key.encode("utf-8"), "m")
    assert {key: where(flushed, key) for key in PLACED} == {key: [host] for key, host in PLACED.items()}


def test_non_utf8_bytes_keys_live_on_one_host(flushed, cluster):
    assert cluster.set(b"\xff\xfe", "v") is True
    assert sum(flushed.client(db).exists(b"\xff\xfe") for db in THREE_DBS) == 1
    assert cluster.get(b"\xff\xfe") == "v"


def test_multi_key_counts_add_up_over_hosts(spread, cluster):
    keys = ["foo", "myappx:other", "xmyapp", "missing", "foo"]
    assert cluster.exists(*keys) == 4  # Redis counts a repeated key each time
    assert cluster.touch("foo", "myappx:other", "xmyapp", "missing") == 3
    assert cluster.delete("foo", "xmyapp", "missing") == 2
    assert contents(spread) == [{}, {"myappx:other": "v1"}, {}]
    assert cluster.unlink("myappx:other", "nothing") == 1
    assert contents(spread) == [{}, {}, {}]


def test_mget_returns_the_values_in_key_order(spread, cluster):
    assert cluster.mget(["xmyapp", "foo", "missing", "myappx:other", "foo"]) == ["v0", "v2", None, "v1", "v2"]
    assert cluster.mget("foo", "xmyapp") == ["v2", "v0"]
    assert cluster.mget("myappx:other") == ["v1"]


@pytest.mark.parametrize("call", [
    lambda c: c.mset({"foo": "1", "xmyapp": "2"}),
    lambda c: c.msetnx({"foo": "1"}),
    lambda c: c.sinter("foo", "xmyapp"),
    lambda c: c.sunionstore("dest", ["foo", "xmyapp"]),
    lambda c: c.rename("foo", "bar"),
    lambda c: c.rpoplpush("foo", "xmyapp"),
    lambda c: c.lmove("foo", "xmyapp"),
    lambda c: c.blpop(["foo", "xmyapp"], timeout=1),
    lambda c: c.pfmerge("dest", "foo"),
    lambda c: c.eval("return redis.call('DEL', KEYS[1], KEYS[2])", 2, "foo", "xmyapp"),
], ids=["mset", "msetnx", "sinter", "sunionstore", "rename", "rpoplpush", "lmove", "blpop", "pfmerge", "eval"])
def test_other_multi_key_commands_are_refused(spread, cluster, call):
    before = contents(spread)
    with pytest.raises(CrossHostCommandError, match="several keys") as caught:
        call(cluster)
    assert isinstance(caught.value, redis.exceptions.RedisError)
    with pytest.raises(CrossHostCommandError):
        with cluster.map() as conn:
            call(conn)
    assert contents(spread) == before


def test_single_key_forms_of_those_commands_run_on_the_key_host(spread, cluster):
    assert cluster.sinter("nothing") == set()
    assert cluster.eval("return redis.call('SET', KEYS[1], ARGV[1])", 1, "analytics:x", "s") == "OK"
    assert where(spread, "analytics:x") == [1]
    assert cluster.blpop("emptylist", timeout=0.1) is None


def test_map_takes_broadcasts_and_multi_key_commands(spread, cluster):
    with cluster.map() as conn:
        pinged = conn.ping()
        sizes = conn.dbsize()
        values = conn.mget(["foo", "xmyapp", "myappx:other"])
        present = conn.exists("foo", "xmyapp", "missing")
        deleted = conn.delete("foo", "myappx:other")
        written = conn.set(b"analytics:x", "w")
        with pytest.raises(RuntimeError):
            _ = pinged.value
    assert all(isinstance(d, Deferred) for d in (pinged, sizes, values, present, deleted, written))
    assert pinged.value == [True, True, True]
    assert sizes.value == [1, 1, 1]
    assert values.value == ["v2", "v0", "v1"]
    assert present == 2 and deleted == 2 and written.value is True
    assert contents(spread) == [{"xmyapp": "v0"}, {"analytics:x": "w"}, {}]


def test_an_error_reply_inside_map_stands_for_the_merged_value(spread, cluster):
    spread.client(THREE_DBS[cluster.host_index("h")]).hset("h", "f", "1")
    with cluster.map() as conn:
        wrong = conn.incr("h")
    assert isinstance(wrong.value, redis.exceptions.ResponseError)


def test_one_host_answers_every_command(one_host):
    backend = Redis(one_host)
    try:
        client = backend.get_backend()
        assert client.mset({"a": "1", "b": "2"}) is True
        assert client.rename("a", "c") is True
        with client.map() as conn:
            pinged = conn.ping()
            values = conn.mget("b", "c")
        assert pinged.value == [True] and values.value == ["2", "1"]
    finally:
        backend.store.close()
