"""Unique counts against Python sets, on both backends, on a host list and on Redis Cluster.

Members are drawn from ``0..99``: no two of them share a HyperLogLog register
(checked below), so Redis counts every subset of them exactly and the model
can ask for equality.  Arbitrary members below 100 are not always exact (two
may share a register); large sets are checked against the 2% bound.
"""
import datetime
import random

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import host_settings
from flavours import make_backend

POOL = list(range(100))
FIRST = datetime.date(2026, 1, 20)
MODEL = settings(max_examples=15, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture
def backend(flushed, flavour):
    instance = make_backend(flavour, host_settings(flushed, [3, 4, 5]))
    yield instance
    instance.store.close()


def test_the_pool_counts_exactly(flushed):
    client = flushed.client()
    client.pfadd("pool", *POOL)
    assert client.pfcount("pool") == len(POOL)
    for size in (1, 2, 17, 63, 99):
        client.delete("part")
        client.pfadd("part", *random.Random(size).sample(POOL, size))
        assert client.pfcount("part") == size


def monday(day):
    return day - datetime.timedelta(days=day.weekday())


@MODEL
@given(events=st.lists(st.tuples(st.sampled_from(POOL), st.integers(0, 75)), min_size=1, max_size=60),
       bulk=st.booleans(), start=st.integers(0, 75), length=st.integers(0, 75))
def test_unique_counts_are_exact_sets_below_100(backend, flushed, events, bulk, start, length):
    flushed.client().flushall()
    dated = [(member, FIRST + datetime.timedelta(days=offset)) for member, offset in events]
    if bulk:
        assert backend.track_uniques(("page", "visitors", member, day) for member, day in dated) == len(dated)
    else:
        for member, day in dated:
            # An int and its text are the same member.
            backend.track_unique("page", "visitors", [member, str(member)] if member % 2 else member, day)
    by_day, by_week, by_month = {}, {}, {}
    for member, day in dated:
        by_day.setdefault(day.isoformat(), set()).add(member)
        by_week.setdefault(monday(day).isoformat(), set()).add(member)
        by_month.setdefault(day.replace(day=1).isoformat(), set()).add(member)

    days = [FIRST + datetime.timedelta(days=i) for i in range(77)]
    expected = {day.isoformat(): len(by_day.get(day.isoformat(), ())) for day in days}
    assert backend.get_unique_by_day("page", "visitors", FIRST, limit=77) == (set(expected), expected)
    mondays = [monday(FIRST) + datetime.timedelta(weeks=i) for i in range(12)]
    expected = {m.isoformat(): len(by_week.get(m.isoformat(), ())) for m in mondays}
    assert backend.get_unique_by_week("page", "visitors", FIRST, limit=12) == (set(expected), expected)
    expected = {"2026-%02d-01" % m: len(by_month.get("2026-%02d-01" % m, ())) for m in (1, 2, 3, 4)}
    assert backend.get_unique_by_month("page", "visitors", FIRST, limit=4) == (set(expected), expected)

    low, high = FIRST + datetime.timedelta(days=start), FIRST + datetime.timedelta(days=start + length)
    union = {member for member, day in dated if low <= day <= high}
    assert backend.get_unique_count("page", "visitors", low, high) == len(union)
    assert backend.get_unique_count("page", "visitors", high, low) == len(union)  # reversed: swapped
    assert backend.get_unique_count("page", "other", low, high) == 0


def test_a_hundred_thousand_members_within_two_percent(flushed):
    backend = make_backend("sync", host_settings(flushed, [3, 4, 5]))
    backend.track_uniques((("page", "visitors", "user%d" % i, FIRST) for i in range(60000)), chunk_size=20000)
    second = FIRST + datetime.timedelta(days=40)
    backend.track_uniques(("page", "visitors", "user%d" % i, second) for i in range(40000, 100000))
    assert abs(backend.get_unique_by_day("page", "visitors", FIRST, 1)[1][FIRST.isoformat()] - 60000) <= 1200
    # The union over both days is 100,000 members, not the 120,000 tracked.
    assert abs(backend.get_unique_count("page", "visitors", FIRST, second) - 100000) <= 2000
    backend.store.close()


def test_hours_of_uniques(flushed, flavour):
    backend = make_backend(flavour, host_settings(flushed, [3]), hours=True, timezone="Europe/Berlin",
                           retention={"hour": None})
    try:
        backend.track_unique("page", "visitors", ["a", "b"], datetime.datetime(2026, 10, 25, 0, 30,
                                                                               tzinfo=datetime.timezone.utc))
        backend.track_unique("page", "visitors", ["b", "c", "d"], datetime.datetime(2026, 10, 25, 1, 30,
                                                                                    tzinfo=datetime.timezone.utc))
        backend.track_unique("page", "visitors", "e", datetime.date(2026, 10, 25))  # a date: no hour
        counts = backend.get_unique_by_hour("page", "visitors", datetime.datetime(2026, 10, 25, 2), limit=3)[1]
        assert counts == {"2026-10-25T02:00+02:00": 2, "2026-10-25T02:00+01:00": 3, "2026-10-25T03:00+01:00": 0}
        assert backend.get_unique_by_day("page", "visitors", datetime.date(2026, 10, 25), 1)[1] == {"2026-10-25": 5}
    finally:
        backend.store.close()


def test_members_are_checked_before_anything_is_sent(backend, flushed):
    for members in (None, "", [1, None], {"a": 1}, 1.5j, [b"\xff"]):
        with pytest.raises((TypeError, ValueError), match="member"):
            backend.track_unique("page", "visitors", members, FIRST)
    with pytest.raises(TypeError, match=r"events\[1\]"):
        backend.track_uniques([("page", "visitors", "a"), ("page", "visitors")])
    with pytest.raises(ValueError, match="start_date and end_date"):
        backend.get_unique_count("page", "visitors", FIRST, None)
    backend.track_unique("page", "visitors", [], FIRST)  # nothing to count, nothing sent
    assert not any(flushed.client(db).dbsize() for db in (3, 4, 5))


def test_a_pairs_hyperloglogs_share_one_host_of_a_list(backend, flushed):
    for offset in range(0, 400, 7):
        backend.track_unique("page", "visitors", offset, FIRST + datetime.timedelta(days=offset))
    holders = [db for db in (3, 4, 5) if flushed.client(db).dbsize()]
    assert len(holders) == 1
    assert backend.get_unique_count("page", "visitors", FIRST, FIRST + datetime.timedelta(days=400)) == 58


@pytest.mark.cluster
def test_on_a_cluster_a_range_is_one_pfcount_on_one_node(cluster):
    backend = make_backend("sync", {"cluster": cluster.url(0)})
    try:
        members = ["m%d" % i for i in range(50)]
        for offset, member in enumerate(members):
            backend.track_unique("page", "visitors", [member, "always"], FIRST + datetime.timedelta(days=offset * 9))
        nodes = []
        for port in cluster.primary_ports():
            with cluster.node_client(port) as client:
                if client.dbsize():
                    nodes.append(port)
        assert len(nodes) == 1
        before = backend.store.round_trips
        count = backend.get_unique_count("page", "visitors", FIRST, FIRST + datetime.timedelta(days=450))
        assert backend.store.round_trips - before == 1
        with cluster.node_client(nodes[0]) as client:
            exact = client.pfcount(*client.keys("*:d:*"))
        assert count == exact and abs(count - 51) <= 1
    finally:
        backend.store.close()


def test_track_uniques_takes_an_async_iterable_on_the_asyncio_backend(flushed):
    backend = make_backend("async", host_settings(flushed, [3]))

    async def events():
        for member in POOL:
            yield ("page", "visitors", member, FIRST)

    try:
        assert backend.track_uniques(events(), chunk_size=30) == len(POOL)
        assert backend.get_unique_count("page", "visitors", FIRST, FIRST) == len(POOL)
    finally:
        backend.store.close()
