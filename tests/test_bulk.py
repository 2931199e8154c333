"""``Redis.track_metrics``: bulk ingestion checked against an independent in-memory model.

The model applies every event on its own, naming keys and fields with
``strftime`` (not :mod:`analytics.schema`), exactly as the README's key table
describes them; the whole content of the databases must equal it.
"""
import datetime
import itertools
import tracemalloc

import pytest
import redis

from analytics.backends.redis import Redis
from conftest import host_settings

THREE = [3, 4, 5]
ONE = [6]
DAY = datetime.date(2012, 1, 1)  # a Sunday: its week starts on 2011-12-26 and lies in the 2012 hash


def model(events, prefix="_analytics"):
    """``{key: {field: count}}`` for hashes and ``{key: count}`` for counters, one event at a time."""
    store = {}
    for event in events:
        uid, metric, day = event[0], event[1], event[2]
        amount = event[3] if len(event) == 4 else 1
        if isinstance(day, datetime.datetime):
            day = day.date()
        if day is None:
            day = datetime.date.today()
        uid = uid.decode() if isinstance(uid, bytes) else str(uid)
        metric = str(metric)
        monday = day - datetime.timedelta(days=day.weekday())
        month_key = "%s:user:%s:analy:%s" % (prefix, uid, day.strftime("%y-%m"))
        year_key = "%s:user:%s:analy:%s" % (prefix, uid, day.strftime("%y"))
        for key, field in ((month_key, "%s:%s" % (metric, day.strftime("%y-%m-%d"))),
                           (year_key, "%s:%s" % (metric, monday.strftime("%y-%m-%d"))),
                           (year_key, "%s:%s" % (metric, day.strftime("%y-%m")))):
            fields = store.setdefault(key, {})
            fields[field] = fields.get(field, 0) + amount
        counter = "%s:analy:%s:count:%s" % (prefix, uid, metric)
        store[counter] = store.get(counter, 0) + amount
    return store


def dump(server, dbs, skip=None):
    """Every key of ``dbs`` but ``skip``: ``{key: {field: int}}`` or ``{key: int}``; a key in two dbs fails."""
    content = {}
    for db in dbs:
        client = server.client(db)
        for key in client.scan_iter(count=1000):
            if key == skip:
                continue
            assert key not in content, "key %r is on two hosts" % key
            if client.type(key) == "hash":
                content[key] = {field: int(value) for field, value in client.hgetall(key).items()}
            else:
                content[key] = int(client.get(key))
    return content


@pytest.fixture(params=[ONE, THREE], ids=["1 host", "3 hosts"])
def hosts(request, flushed):
    backend = Redis(host_settings(flushed, request.param))
    yield flushed, request.param, backend
    backend.store.close()


def events_of(count, uids=7, metrics=3, days=40, start=DAY):
    """Deterministic events with repeats, week and month and year boundaries, and varied amounts."""
    return [("u%d" % (i % uids), "m%d" % (i % metrics), start + datetime.timedelta(days=(i * 7) % days), i % 5 - 1)
            for i in range(count)]


def test_matches_the_model_on_every_host(hosts):
    server, dbs, backend = hosts
    events = events_of(500, start=datetime.date(2012, 12, 10))
    assert backend.track_metrics(events, chunk_size=64) == 500
    assert dump(server, dbs) == model(events)


def test_places_every_key_where_track_metric_does(flushed):
    events = events_of(300, uids=40)
    backend = Redis(host_settings(flushed, THREE))
    try:
        for uid, metric, day, amount in events:
            backend.track_metric(uid, metric, day, amount)
        one_by_one = {db: dump(flushed, [db]) for db in THREE}
        backend.clear_all()
        backend.track_metrics(events, chunk_size=50)
        assert {db: dump(flushed, [db]) for db in THREE} == one_by_one
        assert all(one_by_one.values())  # every host holds some keys
    finally:
        backend.store.close()


@pytest.mark.parametrize("count", [0, 1, 6, 7, 8, 14, 15, 22])
@pytest.mark.parametrize("chunk_size", [1, 7])
def test_chunk_boundaries(flushed, count, chunk_size):
    backend = Redis(host_settings(flushed, ONE))
    try:
        events = events_of(count)
        before = backend.store.round_trips
        assert backend.track_metrics(iter(events), chunk_size=chunk_size) == count
        assert backend.store.round_trips - before == -(-count // chunk_size)
        assert dump(flushed, ONE) == model(events)
    finally:
        backend.store.close()


# A chunk's week and month fields are sent in pieces of 2,000 commands: around
# that, with each uid's event bringing two fields, and one more bringing one.
@pytest.mark.parametrize("uids, one_more", [(999, True), (1000, False), (1000, True), (2000, True)])
def test_whole_and_partial_pieces_of_year_fields(flushed, uids, one_more):
    events = [("p%d" % i, "m", DAY + datetime.timedelta(days=i % 28), 1) for i in range(uids)]
    if one_more:
        events.append(("p0", "m", DAY + datetime.timedelta(days=14), 2))  # same month, another week
    backend = Redis(host_settings(flushed, ONE))
    try:
        assert backend.track_metrics(events, chunk_size=10000) == len(events)
        assert dump(flushed, ONE) == model(events)
    finally:
        backend.store.close()


def test_repeated_increments_are_merged_before_sending(flushed):
    backend = Redis(host_settings(flushed, ONE))
    admin = flushed.client()
    try:
        backend.track_metric("warm", "up", DAY)
        before = admin.info("commandstats")
        events = [("u1", "clicks", DAY, 2)] * 600 + [("u1", "clicks", DAY + datetime.timedelta(days=1), 1)] * 400
        backend.track_metrics(events, chunk_size=1000)
        after = admin.info("commandstats")
        calls = {name: after[name]["calls"] - before.get(name, {"calls": 0})["calls"]
                 for name in ("cmdstat_hincrby", "cmdstat_incrby")}
        # Two days (Sunday 1 Jan, Monday 2 Jan 2012): 2 day fields, 2 week fields
        # (weeks of 26 Dec and 2 Jan), 1 month field, 1 counter.
        assert calls == {"cmdstat_hincrby": 5, "cmdstat_incrby": 1}
        assert dump(flushed, ONE) == model([("warm", "up", DAY)] + events)
        assert admin.select(6) and admin.get("_analytics:analy:u1:count:clicks") == "1600"
    finally:
        admin.close()
        backend.store.close()


def test_accepts_the_same_values_as_track_metric(flushed):
    backend = Redis(host_settings(flushed, ONE))
    try:
        events = [
            ("u1", "clicks", DAY),                                   # inc_amt defaults to 1
            [b"u\xc3\xa9", "clicks", datetime.datetime(2012, 3, 4, 23, 59), 3],  # bytes uid, datetime, list
            (42, 7, DAY, -2),                                        # int uid and metric
            ("u1", "clicks", None, 5),                               # today
            ("u1", "clicks", DAY, 0),
        ]
        assert backend.track_metrics(events) == 5
        assert dump(flushed, ONE) == model(events)
    finally:
        backend.store.close()


@pytest.mark.parametrize("bad, error", [
    (("u1", None, DAY, 1), ValueError),
    (("", "clicks", DAY, 1), ValueError),
    ((None, "clicks", DAY, 1), ValueError),
    ((["u1"], "clicks", DAY, 1), TypeError),
    (("u1", "clicks", "2012-01-01", 1), TypeError),
    (("u1", "clicks", DAY, 1.5), TypeError),
    (("u1", "clicks", DAY, True), TypeError),
    (("u1", "clicks"), TypeError),
    (("u1", "clicks", DAY, 1, 2), TypeError),
    ("u1", TypeError),
    (None, TypeError),
])
def test_a_bad_event_stops_before_its_chunk_is_sent(flushed, bad, error):
    backend = Redis(host_settings(flushed, ONE))
    try:
        good = events_of(23)
        events = good[:17] + [bad] + good[17:]
        with pytest.raises(error, match=r"events\[17\]"):
            backend.track_metrics(iter(events), chunk_size=5)
        # Chunks 0-2 (events 0-14) were applied; chunk 3 (events 15-19) holds the bad one.
        assert dump(flushed, ONE) == model(good[:15])
    finally:
        backend.store.close()


@pytest.mark.parametrize("events, chunk_size, error", [
    (None, 10, TypeError),
    ("u1", 10, TypeError),
    ({"u1": 1}, 10, TypeError),
    ([], 0, ValueError),
    ([], -1, ValueError),
    ([], "10", TypeError),
    ([], 2.0, TypeError),
])
def test_bad_arguments_are_refused(flushed, events, chunk_size, error):
    backend = Redis(host_settings(flushed, ONE))
    try:
        with pytest.raises(error):
            backend.track_metrics(events, chunk_size=chunk_size)
    finally:
        backend.store.close()


def test_an_error_reply_is_raised_after_the_rest_of_the_chunk_ran(hosts):
    server, dbs, backend = hosts
    bad_key = "_analytics:analy:u2:count:clicks"
    backend.get_backend().set(bad_key, "not a number")  # on the host the ring gives it
    events = [("u%d" % i, "clicks", DAY, 1) for i in range(1, 30)]
    with pytest.raises(redis.ResponseError):
        backend.track_metrics(events)
    expected = model(events)
    del expected[bad_key]
    assert dump(server, dbs, skip=bad_key) == expected


def test_memory_does_not_grow_with_the_input(flushed):
    backend = Redis(host_settings(flushed, ONE))

    def generated(count):
        return (("u%d" % (i % 5000), "m%d" % (i % 4), DAY + datetime.timedelta(days=i % 90), 1) for i in range(count))

    def peak(count):
        flushed.client(6).flushdb()
        tracemalloc.start()
        try:
            backend.track_metrics(generated(count), chunk_size=500)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    try:
        peak(2000)  # warm caches (route and date texts) so both runs start equal
        small, large = peak(5000), peak(40000)
        # Eight times the events; a list of them alone would take several MB.
        assert large < small * 1.5 + 256 * 1024, (small, large)
        assert large < 4 * 1024 * 1024
        # u0 and m0 together: i a multiple of 5000 (which is one of 4), 0 to 35000.
        assert dump(flushed, ONE)["_analytics:analy:u0:count:m0"] == 8
    finally:
        backend.store.close()


def test_a_long_generator_is_read_lazily(flushed):
    backend = Redis(host_settings(flushed, ONE))
    try:
        consumed = []

        def events():
            for i in itertools.count():
                consumed.append(i)
                if i == 25:
                    raise RuntimeError("stop here")
                yield ("u1", "clicks", DAY, 1)

        with pytest.raises(RuntimeError):
            backend.track_metrics(events(), chunk_size=10)
        # Two whole chunks went out before the generator failed inside the third.
        assert flushed.client(6).get("_analytics:analy:u1:count:clicks") == "20"
        assert len(consumed) == 26
    finally:
        backend.store.close()


def test_an_error_reply_stops_the_load_before_its_next_chunk_is_sent(hosts):
    # Chunk 0's replies are read while chunk 1 is already packed: it must not go out.
    server, dbs, backend = hosts
    bad_key = "_analytics:analy:u2:count:clicks"
    backend.get_backend().set(bad_key, "not a number")
    events = [("u%d" % i, "clicks", DAY, 1) for i in range(1, 30)]
    with pytest.raises(redis.ResponseError):
        backend.track_metrics(events, chunk_size=5)
    expected = model(events[:5])
    del expected[bad_key]
    assert dump(server, dbs, skip=bad_key) == expected


def test_an_interrupted_load_leaves_no_replies_for_the_next_call(hosts):
    # KeyboardInterrupt is not thrown into the plan: the driver itself must close
    # the connection whose chunk was posted and not yet read back.
    server, dbs, backend = hosts

    def events():
        for i in range(15):
            yield ("u%d" % (i % 3), "clicks", DAY, 1)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        backend.track_metrics(events(), chunk_size=10)
    # Closed and back in its pool, not held (a socket leaked per interrupted load).
    assert all(not node.client.connection_pool._in_use_connections for node in backend.store.primaries())
    landed = backend.get_counts([("u0", "clicks"), ("u1", "clicks"), ("u2", "clicks")])
    assert landed in ([0, 0, 0], [4, 3, 3])  # chunk 0 (events 0-9) landed whole, or not at all
    expected = landed[0]
    for _ in range(3):
        expected += 1
        # Its day, week, month and all-time counts, all of DAY's events.
        assert backend.track_metric("u0", "clicks", DAY) == [[expected] * 4]
        assert backend.get_count("u0", "clicks") == expected
