"""Round trips and commands of the new calls: one pipeline per host touched (counted as in test_round_trips)."""
import datetime

import pytest

from analytics.backends.redis import Redis
from conftest import host_settings
from test_round_trips import ONE, THREE, counting, dbs_holding, dbs_with_keys

UTC = datetime.timezone.utc
WHEN = datetime.datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
DAY = WHEN.date()
KEEP = {"hour": datetime.timedelta(days=3650), "day": datetime.timedelta(days=3650),
        "week": datetime.timedelta(days=3650), "month": datetime.timedelta(days=3650)}


@pytest.fixture(params=[ONE, THREE], ids=["1 host", "3 hosts"])
def hosts(request, flushed):
    # Retention sets expiries with EXPIREAT NX: Redis 7.0 or newer (as tests/test_retention.py).
    if int(flushed.client().info("server")["redis_version"].split(".")[0]) < 7:
        pytest.skip("needs Redis 7.0 or newer")
    backend = Redis(host_settings(flushed, request.param), hours=True, years=True, timezone="Europe/Berlin",
                    retention=KEEP)
    yield flushed, request.param, backend
    backend.store.close()


def test_track_metric_with_hours_and_retention_is_one_round_trip_per_host(hosts):
    server, dbs, backend = hosts
    with counting(backend, server) as counts:
        assert backend.track_metric(["u1", "u2", "u3"], ["a", "b"], WHEN) == [[1, 1, 1, 1]] * 6
    touched = dbs_with_keys(server, dbs)
    assert counts.round_trips == len(touched) == len(counts.writes)
    # Per pair 4 increments and an hour; per uid an expiry for each of its 3 hashes.
    assert counts.commands == {"hincrby": 24, "incrby": 6, "expireat": 9, "multi": len(touched),
                               "exec": len(touched)}


def test_hour_and_year_reads_are_one_round_trip_per_host(hosts):
    server, dbs, backend = hosts
    uids = ["u%d" % i for i in range(10)]
    backend.track_metric(uids, "a", WHEN)
    for call, keys, hmgets in (
        (lambda: backend.get_metrics([(uid, "a") for uid in uids], WHEN, limit=48, group_by="hour"),
         ["_analytics:hour:%s:2026-11-28" % uid for uid in uids], 30),  # 3 local days per uid
        (lambda: backend.get_metrics([(uid, "a") for uid in uids], DAY, limit=3, group_by="year"),
         ["_analytics:user:%s:analy:26" % uid for uid in uids], 30),  # 3 year hashes per uid
    ):
        with counting(backend, server) as counts:
            call()
        touched = dbs_holding(server, dbs, keys)
        assert counts.round_trips == len(touched) == len(counts.writes)
        assert counts.commands == {"hmget": hmgets}


def test_unique_calls_are_one_round_trip_to_one_host(hosts):
    server, dbs, backend = hosts
    members = ["m%d" % i for i in range(100)]
    calls = [
        (lambda: backend.track_unique("page", "visitors", members, WHEN), {"pfadd": 4, "expireat": 1}),
        (lambda: backend.track_uniques(("page", "visitors", m, DAY) for m in members), {"pfadd": 3}),
        (lambda: backend.get_unique_by_day("page", "visitors", DAY, 30), {"pfcount": 30}),
        (lambda: backend.get_unique_by_week("page", "visitors", DAY, 10), {"pfcount": 10}),
        (lambda: backend.get_unique_by_month("page", "visitors", DAY, 10), {"pfcount": 10}),
        (lambda: backend.get_unique_by_hour("page", "visitors", WHEN, 24), {"pfcount": 24}),
        (lambda: backend.get_unique_count("page", "visitors", datetime.date(2025, 11, 15), DAY), {"pfcount": 1}),
    ]
    for call, commands in calls:
        with counting(backend, server) as counts:
            call()
        assert counts.round_trips == 1 == len(counts.writes)
        transactions = {"multi": 1, "exec": 1} if "pfadd" in commands and "expireat" in commands else {}
        assert counts.commands == dict(commands, **transactions)
    assert len(dbs_with_keys(server, dbs)) == 1


def test_track_uniques_sends_one_pipeline_per_host_per_chunk(hosts):
    server, dbs, backend = hosts
    events = [("page%d" % (i % 20), "visitors", "m%d" % i, DAY) for i in range(1000)]
    with counting(backend, server) as counts:
        assert backend.track_uniques(events, chunk_size=500) == 1000
    touched = dbs_with_keys(server, dbs)
    assert counts.round_trips == 2 * len(touched)
    # Per chunk, one PFADD per (page, bucket): 20 pages x day, week and month.
    assert counts.commands == {"pfadd": 2 * 60}
