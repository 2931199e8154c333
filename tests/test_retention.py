"""Retention: the expiry of every key written, read back with EXPIRETIME, against each bucket's end.

Every expected time is written down by hand from the calendar of Europe/Berlin
(+01:00 in winter, +02:00 from 2026-03-29 01:00 UTC to 2026-10-25 01:00 UTC).
No test sleeps: expiries are compared as timestamps.
"""
import datetime

import pytest

from conftest import host_settings
from flavours import make_backend

UTC = datetime.timezone.utc
DAYS = datetime.timedelta(days=1)
HOUR, DAY, WEEK, MONTH, UNIQUE = 3000, 3100, 3200, 3300, 3400  # days: all still ahead of today
RETENTION = {"hour": HOUR * DAYS, "day": DAY * DAYS, "week": WEEK * DAYS, "month": MONTH * DAYS,
             "unique": UNIQUE * DAYS}
DBS = [3, 4, 5]


def at(text, keep_days):
    """Seconds since the epoch of a UTC instant ``YYYY-MM-DDTHH`` plus ``keep_days`` days."""
    instant = datetime.datetime.strptime(text, "%Y-%m-%dT%H").replace(tzinfo=UTC)
    return int((instant + keep_days * DAYS).timestamp())


def expiries(server):
    """``{key: EXPIRETIME}`` of every key on every host (-1: no expiry)."""
    found = {}
    for db in DBS:
        client = server.client(db)
        for key in client.scan_iter():
            assert key not in found
            found[key] = client.expiretime(key)
    return found


@pytest.fixture(autouse=True)
def redis_7(redis_server):
    """Retention sets expiries with EXPIREAT NX, and these tests read them with EXPIRETIME: Redis 7.0+."""
    if int(redis_server.client().info("server")["redis_version"].split(".")[0]) < 7:
        pytest.skip("needs Redis 7.0 or newer")


@pytest.fixture
def backend(flushed, flavour):
    instance = make_backend(flavour, host_settings(flushed, DBS), hours=True, timezone="Europe/Berlin",
                            retention=RETENTION)
    yield instance
    instance.store.close()


def write_everything(backend):
    backend.track_metric("u", ["a", "b"], datetime.datetime(2026, 3, 29, 0, 30, tzinfo=UTC))  # 01:30+01:00
    backend.track_metrics([("v", "a", datetime.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),  # 02:30+01:00
                           ("v", "a", datetime.date(2025, 12, 31))])
    backend.track_unique("w", "a", ["x", "y"], datetime.datetime(2026, 3, 29, 0, 30, tzinfo=UTC))
    backend.track_uniques([("w", "b", "x", datetime.date(2026, 12, 31))])
    backend.set_metric_by_day("s", "a", datetime.date(2026, 2, 10), 5)
    backend.sync_agg_metric("z", "a", datetime.date(2024, 12, 30), datetime.date(2025, 1, 5))


EXPECTED = {
    # A month hash: the end of its month, plus the day retention.
    "_analytics:user:u:analy:26-03": at("2026-03-31T22", DAY),
    "_analytics:user:v:analy:26-10": at("2026-10-31T23", DAY),
    "_analytics:user:v:analy:25-12": at("2025-12-31T23", DAY),
    "_analytics:user:s:analy:26-02": at("2026-02-28T23", DAY),
    # A year hash: the end of its year, plus the longer of the week and month retentions.
    "_analytics:user:u:analy:26": at("2026-12-31T23", MONTH),
    "_analytics:user:v:analy:26": at("2026-12-31T23", MONTH),
    "_analytics:user:v:analy:25": at("2025-12-31T23", MONTH),
    "_analytics:user:s:analy:26": at("2026-12-31T23", MONTH),
    "_analytics:user:z:analy:24": at("2024-12-31T23", MONTH),
    "_analytics:user:z:analy:25": at("2025-12-31T23", MONTH),
    # An hour hash: the end of its local day (23 hours on 2026-03-29, 25 on 2026-10-25), plus hours'.
    "_analytics:hour:u:2026-03-29": at("2026-03-29T22", HOUR),
    "_analytics:hour:v:2026-10-25": at("2026-10-25T23", HOUR),
    # HyperLogLogs: the end of their own bucket, plus the unique retention (an hour's: hours').
    "_analytics:uniq:{1:w:a}:d:2026-03-29": at("2026-03-29T22", UNIQUE),
    "_analytics:uniq:{1:w:a}:w:2026-03-23": at("2026-03-29T22", UNIQUE),
    "_analytics:uniq:{1:w:a}:m:2026-03": at("2026-03-31T22", UNIQUE),
    "_analytics:uniq:{1:w:a}:h:2026-03-29T01:00+01:00": at("2026-03-29T01", HOUR),
    "_analytics:uniq:{1:w:b}:d:2026-12-31": at("2026-12-31T23", UNIQUE),
    "_analytics:uniq:{1:w:b}:w:2026-12-28": at("2027-01-03T23", UNIQUE),
    "_analytics:uniq:{1:w:b}:m:2026-12": at("2026-12-31T23", UNIQUE),
    # All-time counters are kept.
    "_analytics:analy:u:count:a": -1,
    "_analytics:analy:u:count:b": -1,
    "_analytics:analy:v:count:a": -1,
    "_analytics:analy:s:count:a": -1,
}


def test_every_key_expires_at_the_end_of_its_bucket_plus_its_retention(backend, flushed):
    write_everything(backend)
    assert expiries(flushed) == EXPECTED


def test_rewriting_old_buckets_leaves_their_expiry_alone(backend, flushed):
    write_everything(backend)
    before = expiries(flushed)
    write_everything(backend)
    backend.track_metric("u", "a", datetime.datetime(2026, 3, 29, 0, 59, tzinfo=UTC), inc_amt=7)
    backend.track_metric("u", "a", datetime.date(2026, 3, 2))
    assert expiries(flushed) == before
    assert backend.get_metric_by_day("u", "a", datetime.date(2026, 3, 29), 1)[1] == {"2026-03-29": 9}


def test_a_key_written_before_retention_was_on_gets_its_expiry_once(flushed, flavour):
    day = datetime.date(2026, 3, 2)
    plain = make_backend(flavour, host_settings(flushed, DBS))
    plain.track_metric("u", "a", day)
    plain.store.close()
    assert set(expiries(flushed).values()) == {-1}
    for keep in (DAY, DAY + 500):  # the second retention finds the expiry set: NX leaves it
        backend = make_backend(flavour, host_settings(flushed, DBS), retention={"day": keep * DAYS})
        backend.track_metric("u", "a", day)
        backend.store.close()
        assert expiries(flushed)["_analytics:user:u:analy:26-03"] == at("2026-04-01T00", DAY)


def test_a_bucket_past_its_expiry_is_gone_as_soon_as_it_is_written(flushed, flavour):
    backend = make_backend(flavour, host_settings(flushed, DBS), retention={"day": DAYS})
    try:
        # January 2026 ended more than a day ago: its month hash goes at once; the year
        # hash (weeks and months kept forever) and the counter stay.
        assert backend.track_metric("old", "a", datetime.date(2026, 1, 5)) == [[1, 1, 1, 1]]
        assert expiries(flushed) == {"_analytics:user:old:analy:26": -1, "_analytics:analy:old:count:a": -1}
    finally:
        backend.store.close()


def test_every_chunk_of_a_bulk_call_writing_an_expired_bucket_leaves_nothing_behind(flushed, flavour):
    backend = make_backend(flavour, host_settings(flushed, DBS), retention={"day": DAYS})
    try:
        events = [("old", "a", datetime.date(2026, 1, 5))] * 5 + [("new", "a", datetime.date(2026, 12, 31))] * 5
        backend.track_metrics(events, chunk_size=2)
        assert expiries(flushed) == {
            "_analytics:user:old:analy:26": -1, "_analytics:analy:old:count:a": -1,
            "_analytics:user:new:analy:26": -1, "_analytics:analy:new:count:a": -1,
            "_analytics:user:new:analy:26-12": at("2027-01-01T00", 1)}
    finally:
        backend.store.close()


def test_hours_expire_after_14_days_by_default_and_nothing_else_does(flushed, flavour):
    backend = make_backend(flavour, host_settings(flushed, DBS), hours=True)
    try:
        day = datetime.date.today()
        backend.track_metric("u", "a", datetime.datetime.combine(day, datetime.time(10)))
        backend.track_unique("u", "a", "x", datetime.datetime.combine(day, datetime.time(10, 5)))
        end = datetime.datetime.combine(day + DAYS, datetime.time(), tzinfo=UTC)  # a naive hour is read as UTC
        found = expiries(flushed)
        assert found.pop("_analytics:hour:u:%s" % day.isoformat()) == int((end + 14 * DAYS).timestamp())
        assert found.pop("_analytics:uniq:{1:u:a}:h:%sT10:00+00:00" % day.isoformat()) == int(
            (datetime.datetime.combine(day, datetime.time(11), tzinfo=UTC) + 14 * DAYS).timestamp())
        assert set(found.values()) == {-1} and len(found) == 6  # month, year, counter and 3 HyperLogLogs
    finally:
        backend.store.close()


@pytest.mark.parametrize("options, error, words", [
    ({"hours": 1}, TypeError, "hours"),
    ({"years": "yes"}, TypeError, "years"),
    ({"timezone": 3}, TypeError, "timezone"),
    ({"timezone": "Mars/Olympus"}, ValueError, "timezone"),
    ({"retention": [("day", 1)]}, TypeError, "retention"),
    ({"retention": {"days": DAYS}}, ValueError, "retention.*'days'"),
    ({"retention": {"day": 30}}, TypeError, r"retention\['day'\]"),
    ({"retention": {"hour": -DAYS}}, ValueError, r"retention\['hour'\]"),
    ({"retention": {"unique": datetime.timedelta(seconds=1.5)}}, ValueError, r"retention\['unique'\]"),
])
def test_options_are_checked_when_the_backend_is_built(options, error, words):
    from analytics import create_analytic_backend
    from analytics.aio.backends.dummy import Dummy as AsyncDummy
    from analytics.aio.backends.redis import Redis as AsyncRedis
    from analytics.backends.dummy import Dummy
    from analytics.backends.redis import Redis

    for cls in (Redis, AsyncRedis, Dummy, AsyncDummy):
        with pytest.raises(error, match=words):
            cls({"hosts": [{"port": 1}]}, **options)
    with pytest.raises(error, match=words):
        create_analytic_backend(dict({"backend": "analytics.backends.redis.Redis", "settings": {}}, **options))


def test_options_go_through_the_front_door(three_hosts):
    import analytics.aio
    from analytics import create_analytic_backend

    for make in (create_analytic_backend, analytics.aio.create_analytic_backend):
        backend = make({"backend": "analytics.backends.redis.Redis", "settings": three_hosts, "hours": True,
                        "years": True, "timezone": "Pacific/Kiritimati", "retention": {"day": None}})
        keyspace = backend._keyspace
        assert (keyspace.hours, keyspace.years, str(keyspace.zone)) == (True, True, "Pacific/Kiritimati")
        assert keyspace.retention == {"hour": 14 * 86400, "day": None, "week": None, "month": None, "unique": None}


@pytest.mark.cluster
def test_the_same_expiries_on_a_cluster(cluster):
    backend = make_backend("sync", {"cluster": cluster.url(0)}, hours=True, timezone="Europe/Berlin",
                           retention=RETENTION)
    try:
        write_everything(backend)
    finally:
        backend.store.close()
    found = {}
    for port in cluster.primary_ports():
        with cluster.node_client(port) as client:
            found.update((key, client.expiretime(key)) for key in client.scan_iter())
    assert found == EXPECTED


@pytest.mark.parametrize("bad, error", [(("v", "a", "2026-01-01", 1), TypeError), (("v", None, None), ValueError),
                                        (("v", "a", None, True), TypeError), (["v", "a"], TypeError),
                                        (("v", "a", datetime.datetime.max.replace(tzinfo=UTC)), ValueError)])
def test_with_options_a_bad_event_is_refused_by_index_before_its_chunk_is_sent(backend, flushed, bad, error):
    events = [("v", "a", datetime.datetime(2026, 5, 1, 12, tzinfo=UTC))] * 3 + [bad]
    with pytest.raises(error, match=r"events\[3\]"):
        backend.track_metrics(events)
    assert expiries(flushed) == {}
