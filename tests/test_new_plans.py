"""The new plans without a server: each step checked by hand, answers fed by hand."""
import calendar
import datetime
import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics import buckets, plans
from analytics.backends import arguments
from analytics.plans import Batch, Keyspace

UTC = datetime.timezone.utc
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def finish(plan, answer):
    with pytest.raises(StopIteration) as done:
        plan.send(answer)
    return done.value.value


def epoch(text):
    return int(datetime.datetime.fromisoformat(text).timestamp())


def test_get_metric_by_year_sums_the_twelve_months_of_each_year_hash():
    plan = plans.get_metric_by_year(Keyspace("P"), "u", "m", datetime.date(2025, 8, 1), limit=2)
    step = next(plan)
    assert type(step) is Batch
    assert step.commands == [
        ("HMGET", "P:user:u:analy:25", *["m:25-%02d" % month for month in range(1, 13)]),
        ("HMGET", "P:user:u:analy:26", *["m:26-%02d" % month for month in range(1, 13)]),
    ]
    replies = [["1", None, "2"] + [None] * 9, [None] * 11 + ["40"]]
    assert finish(plan, replies) == ({"2025-01-01", "2026-01-01"}, {"2025-01-01": 3, "2026-01-01": 40})


def test_track_metric_with_hours_and_retention_adds_the_hour_and_expiries():
    ks = arguments.keyspace("P", hours=True, timezone="Europe/Berlin",
                            retention={"day": datetime.timedelta(days=1), "hour": datetime.timedelta(hours=2)})
    plan = plans.track_metric(ks, "u", "m", datetime.datetime(2026, 10, 25, 1, 30, tzinfo=UTC), inc_amt=3)
    step = next(plan)
    assert step.commands == [
        ("HINCRBY", "P:user:u:analy:26-10", "m:26-10-25", 3),
        ("HINCRBY", "P:user:u:analy:26", "m:26-10-19", 3),
        ("HINCRBY", "P:user:u:analy:26", "m:26-10", 3),
        ("INCRBY", "P:analy:u:count:m", 3),
        ("HINCRBY", "P:hour:u:2026-10-25", "m:02:00+01:00", 3),
        ("EXPIREAT", "P:hour:u:2026-10-25", epoch("2026-10-26T00:00+01:00") + 7200, "NX"),
        ("EXPIREAT", "P:user:u:analy:26-10", epoch("2026-11-01T00:00+01:00") + 86400, "NX"),
        # Weeks and months are kept forever, so their year hash is too: no expiry.
    ]
    assert finish(plan, [3, 3, 3, 3, 3, 1, 1]) == [[3, 3, 3, 3]]


def test_a_plain_keyspace_sends_exactly_the_065_commands():
    plan = plans.track_metric(Keyspace("P"), "u", "m", datetime.datetime(2026, 10, 25, 1, 30, tzinfo=UTC))
    assert next(plan).commands == [
        ("HINCRBY", "P:user:u:analy:26-10", "m:26-10-25", 1),
        ("HINCRBY", "P:user:u:analy:26", "m:26-10-19", 1),
        ("HINCRBY", "P:user:u:analy:26", "m:26-10", 1),
        ("INCRBY", "P:analy:u:count:m", 1),
    ]


def test_get_unique_count_is_one_pfcount_of_whole_months_and_edge_days_placed_by_the_anchor():
    plan = plans.get_unique_count(Keyspace("P"), "user:1", "logins", datetime.date(2026, 3, 30),
                                  datetime.date(2026, 1, 29))
    step = next(plan)
    head = "P:uniq:{6:user:1:logins}"
    assert step.commands == [("PFCOUNT", head + ":m:2026-02", head + ":d:2026-01-29", head + ":d:2026-01-30",
                              head + ":d:2026-01-31", *[head + ":d:2026-03-%02d" % d for d in range(1, 31)])]
    assert step.places == [head]
    assert finish(plan, [17]) == 17


def test_a_whole_range_of_months_reads_no_day():
    step = next(plans.get_unique_count(Keyspace("P"), "u", "m", datetime.date(2024, 2, 1), datetime.date(2024, 3, 31)))
    assert step.commands == [("PFCOUNT", "P:uniq:{1:u:m}:m:2024-02", "P:uniq:{1:u:m}:m:2024-03")]


def test_track_unique_adds_every_member_to_each_bucket():
    ks = Keyspace("P", hours=True, zone=BERLIN)
    plan = plans.track_unique(ks, "u", "m", [1, "1", "b"], datetime.datetime(2026, 3, 29, 0, 30, tzinfo=UTC))
    step = next(plan)
    assert step.commands == [
        ("PFADD", "P:uniq:{1:u:m}:d:2026-03-29", "1", "1", "b"),
        ("PFADD", "P:uniq:{1:u:m}:w:2026-03-23", "1", "1", "b"),
        ("PFADD", "P:uniq:{1:u:m}:m:2026-03", "1", "1", "b"),
        ("PFADD", "P:uniq:{1:u:m}:h:2026-03-29T01:00+01:00", "1", "1", "b"),
        ("EXPIREAT", "P:uniq:{1:u:m}:h:2026-03-29T01:00+01:00", epoch("2026-03-29T02:00+01:00") + 14 * 86400, "NX"),
    ]
    assert step.places == ["P:uniq:{1:u:m}"] * 5
    assert finish(plan, [1, 1, 1, 1, 1]) is None


def test_track_uniques_merges_the_members_of_a_chunk():
    events = iter([("u", "m", "a", datetime.date(2026, 5, 4)), ("u", "m", "b", datetime.date(2026, 5, 5)),
                   ("u", "m", "a", datetime.date(2026, 5, 5))])
    plan = plans.track_uniques(Keyspace("P"), events, chunk_size=10)
    take = next(plan)
    assert type(plan.send(list(take.stream))) is type(take)  # a short piece: it asks for more
    step = plan.send([])
    assert sorted(step.commands) == sorted([
        ("PFADD", "P:uniq:{1:u:m}:d:2026-05-04", "a"), ("PFADD", "P:uniq:{1:u:m}:d:2026-05-05", "b", "a"),
        ("PFADD", "P:uniq:{1:u:m}:w:2026-05-04", "a", "b"), ("PFADD", "P:uniq:{1:u:m}:m:2026-05", "a", "b"),
    ])
    assert step.replies is False and step.atomic is False
    assert finish(plan, None) == 3


def test_get_unique_by_week_reads_one_pfcount_per_monday():
    plan = plans.get_unique_by_week(Keyspace("P"), "u", "m", datetime.date(2026, 1, 1), limit=2)
    assert next(plan).commands == [("PFCOUNT", "P:uniq:{1:u:m}:w:2025-12-29"), ("PFCOUNT", "P:uniq:{1:u:m}:w:2026-01-05")]
    assert finish(plan, [4, 0]) == ({"2025-12-29", "2026-01-05"}, {"2025-12-29": 4, "2026-01-05": 0})


def test_keys_of_different_pairs_never_share_a_name():
    # "a:b" + "c" and "a" + "b:c" would both read "a:b:c" without the uid's length.
    assert plans.get_unique_count(Keyspace("P"), "a:b", "c", datetime.date(2026, 1, 1),
                                  datetime.date(2026, 1, 1)).send(None).commands != \
        plans.get_unique_count(Keyspace("P"), "a", "b:c", datetime.date(2026, 1, 1),
                               datetime.date(2026, 1, 1)).send(None).commands


def test_every_new_call_is_in_calls_and_both_contracts():
    from analytics.aio.backends.base import AsyncBaseAnalyticsBackend
    from analytics.backends.base import BaseAnalyticsBackend

    new = {"get_metric_by_year", "get_metric_by_hour", "track_unique", "track_uniques", "get_unique_by_hour",
           "get_unique_by_day", "get_unique_by_week", "get_unique_by_month", "get_unique_count"}
    assert new <= set(plans.CALLS)
    for name in plans.CALLS:
        assert name in vars(BaseAnalyticsBackend) and name in vars(AsyncBaseAnalyticsBackend)


def test_a_pair_given_twice_counts_its_hour_twice():
    plan = plans.track_metric(Keyspace("P", hours=True), ["u", "u"], "m", datetime.datetime(2026, 5, 1, 7, 5))
    hour_commands = [command for command in next(plan).commands if command[1].startswith("P:hour:")]
    assert hour_commands == [("HINCRBY", "P:hour:u:2026-05-01", "m:07:00+00:00", 2),
                             ("EXPIREAT", "P:hour:u:2026-05-01", epoch("2026-05-02T00:00+00:00") + 14 * 86400, "NX")]


@given(start=st.dates(datetime.date(1, 1, 1), datetime.date(9999, 10, 1)), length=st.integers(0, 800))
def test_a_union_reads_exactly_the_whole_months_of_the_range_and_its_other_days(start, length):
    end = min(start + datetime.timedelta(days=length), datetime.date.max)
    days = [start + datetime.timedelta(days=i) for i in range((end - start).days + 1)]
    by_month = {}
    for day in days:
        by_month.setdefault((day.year, day.month), []).append(day)
    whole, single = [], []
    for (year, month), inside in sorted(by_month.items()):
        if len(inside) == calendar.monthrange(year, month)[1]:
            whole.append(datetime.date(year, month, 1))
        else:
            single += inside
    assert buckets.whole_months_between(start, end) == (whole, single)


def expireats(batch):
    return [command for command in batch.commands if command[0] == "EXPIREAT"]


def test_a_bulk_call_sends_each_expiry_once_but_a_near_one_every_chunk():
    keep = 3650 * 86400  # seconds, as the backend hands them on
    ks = Keyspace("P", retention={"day": keep, "week": keep, "month": keep})
    events = [("u", "m", datetime.date(2026, 1, 5))] * 2 + [("u", "m", datetime.date(2001, 1, 5))] * 2
    plan = plans.track_metrics(ks, iter(events[:1] + events[2:3] + events[1:2] + events[3:]), chunk_size=2)
    assert next(plan).size == 2
    first = plan.send([events[0], events[2]])
    while not isinstance(first, Batch):
        first = plan.send(None)
    # 2026 and 2001 month and year hashes: four expiries, 2001's already a decade past.
    assert sorted(command[1] for command in expireats(first)) == [
        "P:user:u:analy:01", "P:user:u:analy:01-01", "P:user:u:analy:26", "P:user:u:analy:26-01"]
    assert plan.send(None).size == 2
    second = plan.send([events[1], events[3]])
    while not isinstance(second, Batch):
        second = plan.send(None)
    # 2026's keys keep the expiry the first chunk gave them; 2001's keys were deleted
    # by theirs and are written anew, so they get it again.
    assert sorted(command[1] for command in expireats(second)) == ["P:user:u:analy:01", "P:user:u:analy:01-01"]
