"""Exact round trips and commands per public call, on one host and on three.

Round trips are counted twice, independently: by the store
(``store.round_trips``) and by a spy on redis-py's socket writes (one write of a
packed pipeline per round trip).  Commands are counted by the server itself
(``INFO commandstats``).  The hosts a call touches are found on the server too:
the databases that hold the keys it wrote or read.  No timing is asserted.
"""
import contextlib
import datetime

import pytest
import redis
import redis.asyncio.connection
import redis.connection

from analytics.backends.redis import Redis
from analytics.stores import redispy
from conftest import host_settings
from flavours import Blocking, make_backend

THREE = [3, 4, 5]
ONE = [6]
DAY = datetime.date(2012, 1, 20)


class Counts:
    def __init__(self):
        self.writes = []
        self.round_trips = 0
        self.commands = {}

    @property
    def total_commands(self):
        return sum(self.commands.values())


def _commandstats(admin):
    stats = admin.info("commandstats")
    return {name[len("cmdstat_"):]: value["calls"] for name, value in stats.items() if name != "cmdstat_info"}


@contextlib.contextmanager
def counting(backend, server):
    """Count what the block sends: socket writes (with their db), store round trips, server commands."""
    asynchronous = isinstance(backend, Blocking)
    for node in backend.store.primaries():
        # Connect first: the connection handshake is not part of a call.  A
        # bulk load holds two connections per host (a chunk's replies unread
        # while the next chunk is packed): both are opened here.
        pool = node.client.connection_pool
        if asynchronous:
            async def open_two(pool=pool):
                held = [await pool.get_connection(), await pool.get_connection()]
                for conn in held:
                    await conn.connect()
                    await pool.release(conn)
            backend.run(open_two())
        else:
            held = [pool.get_connection(), pool.get_connection()]
            for conn in held:
                pool.release(conn)
    counts = Counts()
    admin = server.client()
    before_stats, before_trips = _commandstats(admin), backend.store.round_trips
    # The asyncio driver writes to the connection's stream itself (redispy.async_send).
    owner, name = (redispy, "async_send") if asynchronous else (redis.connection.AbstractConnection,
                                                                 "send_packed_command")
    original = getattr(owner, name)

    def spy(conn, *args, **kwargs):
        counts.writes.append(conn.db)
        return original(conn, *args, **kwargs)

    setattr(owner, name, spy)
    try:
        yield counts
    finally:
        setattr(owner, name, original)
    counts.round_trips = backend.store.round_trips - before_trips
    after = _commandstats(admin)
    admin.close()
    counts.commands = {name: calls - before_stats.get(name, 0) for name, calls in after.items()
                       if calls != before_stats.get(name, 0)}


def dbs_holding(server, dbs, keys):
    """The databases among ``dbs`` that hold at least one of ``keys``."""
    return [db for db in dbs if server.client(db).exists(*keys)]


def dbs_with_keys(server, dbs):
    return [db for db in dbs if server.client(db).dbsize()]


@pytest.fixture(params=[ONE, THREE], ids=["1 host", "3 hosts"])
def hosts(request, flushed, flavour):
    backend = make_backend(flavour, host_settings(flushed, request.param))
    yield flushed, request.param, backend
    backend.store.close()


UIDS = ["user%d" % i for i in range(10)]
METRICS = ["metric%d" % i for i in range(5)]


def test_track_metric_10_uids_5_metrics_is_one_round_trip_per_host_touched(hosts):
    server, dbs, backend = hosts
    with counting(backend, server) as counts:
        backend.track_metric(UIDS, METRICS, DAY)
    touched = dbs_with_keys(server, dbs)
    assert len(touched) == len(dbs)  # 10 uids' 30 keys reach every host
    assert counts.round_trips == len(touched)
    assert sorted(counts.writes) == touched
    # 3 HINCRBY + 1 INCRBY per pair, in one MULTI/EXEC per host.
    assert counts.commands == {"hincrby": 150, "incrby": 50, "multi": len(touched), "exec": len(touched)}


def test_track_metric_of_one_event_is_one_round_trip_of_six_commands(hosts):
    server, dbs, backend = hosts
    with counting(backend, server) as counts:
        backend.track_metric("user1", "clicks", DAY)
    touched = dbs_with_keys(server, dbs)
    assert counts.round_trips == len(touched) == len(counts.writes)
    assert counts.commands == {"hincrby": 3, "incrby": 1, "multi": len(touched), "exec": len(touched)}


def test_track_count_is_one_command(hosts):
    server, dbs, backend = hosts
    with counting(backend, server) as counts:
        backend.track_count("user1", "clicks", 3)
    assert counts.round_trips == 1 == len(counts.writes)
    assert counts.commands == {"incrby": 1, "multi": 1, "exec": 1}


def _load(backend, pairs, first, days):
    backend.track_metrics((uid, metric, first + datetime.timedelta(days=d), 1) for uid, metric in pairs
                          for d in range(days))


def test_get_metrics_100_pairs_30_days_is_one_round_trip_per_host_touched(hosts):
    server, dbs, backend = hosts
    pairs = [("user%d" % i, "metric%d" % (i % 7)) for i in range(100)]
    _load(backend, pairs, DAY, 30)
    with counting(backend, server) as counts:
        series = backend.get_metrics(pairs, DAY, 30, group_by="day")
    assert all(sorted(values.values()) == [1] * 30 for _, values in series)
    # 2012-01-20 + 30 days spans January and February: two month hashes per uid.
    month_keys = ["_analytics:user:%s:analy:12-%s" % (uid, month) for uid, _ in pairs for month in ("01", "02")]
    touched = dbs_holding(server, dbs, month_keys)
    assert counts.round_trips == len(touched) == len(counts.writes)
    assert sorted(counts.writes) == touched
    assert counts.commands == {"hmget": 200}


def test_get_metrics_by_week_and_month_is_one_round_trip_per_host(hosts):
    server, dbs, backend = hosts
    pairs = [("user%d" % i, "metric1") for i in range(20)]
    _load(backend, pairs, DAY, 3)
    for group, limit in (("week", 10), ("month", 6)):
        with counting(backend, server) as counts:
            backend.get_metrics(pairs, DAY, limit, group_by=group)
        touched = dbs_holding(server, dbs, ["_analytics:user:%s:analy:12" % uid for uid, _ in pairs])
        assert counts.round_trips == len(touched) == len(counts.writes)
        # Every week and month of 2012 lies in the uid's 2012 hash: one HMGET per uid.
        assert counts.commands == {"hmget": 20}


def test_get_counts_1000_pairs_is_one_round_trip_per_host_touched(hosts):
    server, dbs, backend = hosts
    pairs = [("user%d" % i, "metric%d" % (i % 3)) for i in range(1000)]
    backend.track_metrics((uid, metric, DAY, 2) for uid, metric in pairs)
    with counting(backend, server) as counts:
        assert backend.get_counts(pairs) == [2] * 1000
    touched = dbs_holding(server, dbs, ["_analytics:analy:%s:count:%s" % pair for pair in pairs])
    assert len(touched) == len(dbs)
    assert counts.round_trips == len(touched) == len(counts.writes)
    assert counts.commands == {"get": 1000}


def test_get_count_over_two_years_is_four_hmgets(hosts):
    server, dbs, backend = hosts
    start, end = datetime.date(2012, 1, 15), datetime.date(2014, 1, 10)
    _load(backend, [("user1", "clicks")], start, (end - start).days + 1)
    with counting(backend, server) as counts:
        assert backend.get_count("user1", "clicks", start, end) == (end - start).days + 1
    # Whole months Feb 2012 - Dec 2013 from the 12 and 13 year hashes, the days of
    # January 2012 and January 2014 from their month hashes.
    keys = ["_analytics:user:user1:analy:%s" % period for period in ("12", "13", "12-01", "14-01")]
    touched = dbs_holding(server, dbs, keys)
    assert counts.round_trips == len(touched) == len(counts.writes)
    assert counts.commands == {"hmget": 4}


def test_get_counts_over_a_range_groups_fields_per_hash(hosts):
    server, dbs, backend = hosts
    pairs = [("user%d" % (i % 50), "metric%d" % (i // 50)) for i in range(100)]
    _load(backend, pairs, DAY, 5)
    with counting(backend, server) as counts:
        assert backend.get_counts(pairs, start_date=DAY, end_date=DAY + datetime.timedelta(days=4)) == [5] * 100
    # Two metrics of one uid share its month hash: one HMGET per uid.
    keys = ["_analytics:user:user%d:analy:12-01" % i for i in range(50)]
    touched = dbs_holding(server, dbs, keys)
    assert counts.round_trips == len(touched) == len(counts.writes)
    assert counts.commands == {"hmget": 50}


def test_set_metric_by_day_and_syncs_are_two_batches(flushed, flavour):
    backend = make_backend(flavour, host_settings(flushed, ONE))
    try:
        backend.track_metric("user1", "clicks", DAY, 4)
        calls = [
            lambda: backend.set_metric_by_day("user1", "clicks", DAY, 9),
            lambda: backend.sync_agg_metric("user1", "clicks", DAY, DAY + datetime.timedelta(days=40)),
            lambda: backend.sync_week_metric("user1", "clicks", DAY, DAY + datetime.timedelta(days=40)),
            lambda: backend.sync_month_metric("user1", "clicks", DAY, DAY + datetime.timedelta(days=40)),
        ]
        for call in calls:
            with counting(backend, flushed) as counts:
                call()
            assert counts.round_trips == 2 == len(counts.writes)
            assert counts.commands["exec"] == 2
    finally:
        backend.store.close()


def test_set_metric_by_day_on_three_hosts_sends_two_batches(flushed, flavour):
    backend = make_backend(flavour, host_settings(flushed, THREE))
    try:
        with counting(backend, flushed) as counts:
            backend.set_metric_by_day(UIDS, "clicks", DAY, 9)
        # Each batch goes once to each host it touches, never more.
        assert 2 <= counts.round_trips == len(counts.writes) <= 2 * len(THREE)
        assert counts.commands["exec"] == counts.round_trips
        assert counts.commands["eval"] == len(UIDS)
    finally:
        backend.store.close()


def test_track_metrics_sends_one_pipeline_per_host_per_chunk(hosts):
    server, dbs, backend = hosts
    events = [("user%d" % (i % 10), "clicks", DAY, 1) for i in range(25)]
    with counting(backend, server) as counts:
        assert backend.track_metrics(events, chunk_size=10) == 25
    touched = dbs_with_keys(server, dbs)
    chunks = [events[0:10], events[10:20], events[20:25]]
    # Every chunk has all 10 uids: their keys reach every host in every chunk.
    assert len(touched) == len(dbs)
    assert counts.round_trips == len(chunks) * len(touched) == len(counts.writes)
    # Per chunk, merged: one day, week and month field and one counter per distinct uid; no MULTI/EXEC.
    distinct = sum(len({uid for uid, _, _, _ in chunk}) for chunk in chunks)
    assert counts.commands == {"hincrby": 3 * distinct, "incrby": distinct}


def test_hiredis_parses_and_packs_when_installed(flushed):
    """redis-py picks hiredis by itself; the store then packs and reads through it too."""
    pytest.importorskip("hiredis")
    from redis._parsers import _HiredisParser

    from analytics.stores import redispy

    backend = Redis(host_settings(flushed, THREE))
    backend.track_metric("user1", "clicks", DAY)
    node = backend.store.primaries()[0]
    conn = node.client.connection_pool.get_connection()
    try:
        assert type(conn._parser) is _HiredisParser
        assert redispy.reply_reader(conn) == conn._parser.read_response
        commands = [("HINCRBY", "k", "f\u00e9", 2), ("INCRBY", "c", -1)]
        assert redispy.pack(conn, commands) == [b"".join(conn.pack_commands(commands))]
    finally:
        node.client.connection_pool.release(conn)
        backend.close()


def test_asyncio_hiredis_parser_is_read_directly(flushed):
    """On redis.asyncio too, replies come from hiredis' parser itself when redis-py uses it."""
    pytest.importorskip("hiredis")
    from redis._parsers import _AsyncHiredisParser

    from analytics.stores import redispy

    backend = make_backend("async", host_settings(flushed, ONE))
    try:
        backend.track_metric("user1", "clicks", DAY)
        pool = backend.store.primaries()[0].client.connection_pool

        async def inspect_one():
            conn = await pool.get_connection()
            try:
                return type(conn._parser), redispy.async_reply_reader(conn) == conn._parser.read_response
            finally:
                await pool.release(conn)

        assert backend.run(inspect_one()) == (_AsyncHiredisParser, True)
    finally:
        backend.close()
