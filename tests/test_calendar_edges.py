"""Issue 14, F: every calendar date works; only a bucket needing year 0 or 10000 is refused.

By hand: 9999-12-31 is a Friday (8000 years are 20 whole 400-year cycles, and
1999-12-31 was a Friday), so the last Monday is 9999-12-27 and its week would
end on 10000-01-02; 0001-01-01 is a Monday (2001-01-01 was one, 5 cycles later).
"""
from datetime import date, timedelta

import pytest

from analytics import buckets
from analytics.backends.redis import Redis

LAST = date(9999, 12, 31)
FIRST = date(1, 1, 1)


@pytest.fixture
def backend(one_host):
    instance = Redis(one_host)
    yield instance
    instance.store.close()


def test_buckets_at_the_end_of_the_calendar():
    assert buckets.month_starts_between(date(9999, 11, 15), LAST) == [date(9999, 12, 1)]
    assert buckets.month_starts_between(date(9999, 12, 2), LAST) == []
    december = buckets.days_in_month(date(9999, 12, 1))
    assert len(december) == 31 and december[0] == date(9999, 12, 1) and december[-1] == LAST
    whole, single = buckets.split_range(date(9999, 9, 15), LAST)
    assert whole == [date(9999, 10, 1), date(9999, 11, 1)]
    assert single == ([date(9999, 9, 15) + timedelta(days=i) for i in range(16)]
                      + [date(9999, 12, 1) + timedelta(days=i) for i in range(31)])
    assert buckets.months(date(9999, 12, 20), 1) == [date(9999, 12, 1)]


def test_buckets_at_the_start_of_the_calendar():
    assert buckets.month_starts_between(FIRST, date(1, 3, 1)) == [FIRST, date(1, 2, 1), date(1, 3, 1)]
    assert buckets.split_range(FIRST, date(1, 3, 2)) == ([FIRST, date(1, 2, 1)], [date(1, 3, 1), date(1, 3, 2)])
    assert buckets.mondays(date(1, 1, 7), 1) == [FIRST]


def test_counts_over_december_9999(backend):
    backend.track_metric("u", "m", date(9999, 12, 5), inc_amt=3)
    backend.track_metric("u", "m", LAST, inc_amt=2)
    assert backend.get_count("u", "m", date(9999, 12, 1), LAST) == 5
    assert backend.get_count("u", "m", LAST, LAST) == 2
    assert backend.get_counts([("u", "m")], start_date=date(9999, 12, 6), end_date=LAST) == [2]
    assert backend.get_metric_by_month("u", "m", date(9999, 12, 20), limit=1) == (
        {"9999-12-01"}, {"9999-12-01": 5})
    assert backend.get_metric_by_day("u", "m", LAST, limit=1) == ({"9999-12-31"}, {"9999-12-31": 2})


def test_whole_months_up_to_december_9999_keep_the_k7_rule(backend):
    for day, amount in [(date(9999, 9, 14), 100), (date(9999, 9, 15), 8), (date(9999, 10, 10), 1),
                        (date(9999, 11, 11), 4), (LAST, 2)]:
        backend.track_metric("u", "m", day, inc_amt=amount)
    assert backend.get_count("u", "m", date(9999, 9, 15), LAST) == 15
    # October and November are read from their monthly totals (three month starts in the range):
    # a day set without syncing shows only after a sync.
    backend.set_metric_by_day("u", "m", date(9999, 10, 20), 50, sync_agg=False)
    assert backend.get_count("u", "m", date(9999, 9, 15), LAST) == 15
    backend.sync_month_metric("u", "m", date(9999, 10, 1), date(9999, 10, 31))
    assert backend.get_count("u", "m", date(9999, 9, 15), LAST) == 65


def test_syncing_december_9999(backend):
    plain = backend.get_backend()
    for day, amount in [(date(9999, 12, 1), 4), (date(9999, 12, 10), 5), (LAST, 6)]:
        backend.set_metric_by_day("u", "m", day, amount, sync_agg=False)
    backend.sync_month_metric("u", "m", date(9999, 12, 5), date(9999, 12, 20))
    assert plain.hget("_analytics:user:u:analy:99", "m:99-12") == "15"
    backend.sync_agg_metric("u", "m", date(9999, 12, 1), date(9999, 12, 26))
    # The weeks of Mondays 9999-11-29 (Dec 1) and 9999-12-06 (Dec 10); the week of Dec 20 is empty.
    assert plain.hget("_analytics:user:u:analy:99", "m:99-11-29") == "4"
    assert plain.hget("_analytics:user:u:analy:99", "m:99-12-06") == "5"
    assert plain.hget("_analytics:user:u:analy:99", "m:99-12-20") == "0"
    assert backend.get_metric_by_week("u", "m", date(9999, 12, 20), limit=1) == ({"9999-12-20"}, {"9999-12-20": 0})


def test_the_start_of_the_calendar(backend):
    backend.track_metric("u", "m", FIRST, inc_amt=2)
    backend.track_metric("u", "m", date(1, 2, 3), inc_amt=1)
    backend.track_metric("u", "m", date(1, 3, 2), inc_amt=4)
    assert backend.get_count("u", "m", FIRST, date(1, 1, 31)) == 2
    assert backend.get_count("u", "m", FIRST, date(1, 3, 31)) == 7
    backend.sync_agg_metric("u", "m", FIRST, date(1, 3, 31))
    assert backend.get_metric_by_month("u", "m", FIRST, limit=3) == (
        {"0001-01-01", "0001-02-01", "0001-03-01"}, {"0001-01-01": 2, "0001-02-01": 1, "0001-03-01": 4})
    assert backend.get_metric_by_week("u", "m", date(1, 1, 3), limit=1) == ({"0001-01-01"}, {"0001-01-01": 2})
    assert backend.get_metric_by_day("u", "m", FIRST, limit=1) == ({"0001-01-01"}, {"0001-01-01": 2})


@pytest.mark.parametrize("call", [
    lambda b: b.get_metric_by_month("u", "m", date(9999, 12, 1), limit=2),
    lambda b: b.get_metric_by_day("u", "m", LAST, limit=2),
    lambda b: b.get_metric_by_week("u", "m", date(9999, 12, 27), limit=1),
    lambda b: b.get_metrics([("u", "m")], date(9999, 11, 1), limit=3, group_by="month"),
    lambda b: b.sync_week_metric("u", "m", date(9999, 12, 28), LAST),
], ids=["month after December 9999", "day after 9999-12-31", "week into 10000", "get_metrics", "sync week"])
def test_buckets_past_the_calendar_are_refused_saying_so(backend, call):
    with pytest.raises(ValueError, match="would need year 10000, outside the calendar"):
        call(backend)
    assert backend.get_backend().dbsize() == [0]
