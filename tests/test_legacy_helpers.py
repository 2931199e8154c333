"""Issue 14, C: 0.6.5's private helpers on ``Redis``, with values worked out by hand."""
from datetime import date, datetime, timedelta

import pytest

from analytics.backends.redis import Redis


@pytest.fixture
def backend(one_host):
    instance = Redis(one_host)
    yield instance
    instance.store.close()


@pytest.fixture
def prefixed(one_host):
    instance = Redis(one_host, prefix="myapp")
    yield instance
    instance.store.close()


# 2011-11-11 was a Friday, so 2011-11-14 a Monday; 2012-01-01 a Sunday.
@pytest.mark.parametrize("day, monday", [
    (date(2011, 11, 14), date(2011, 11, 14)),
    (date(2011, 11, 16), date(2011, 11, 14)),
    (date(2011, 11, 13), date(2011, 11, 7)),
    (date(2011, 11, 1), date(2011, 10, 31)),
    (date(2012, 1, 1), date(2011, 12, 26)),
    (datetime(2011, 11, 16, 23, 59), date(2011, 11, 14)),
])
def test_closest_week(backend, day, monday):
    assert backend._get_closest_week(day) == monday


def test_keys(backend, prefixed):
    assert backend._get_daily_metric_key("1234", date(2011, 11, 15)) == "_analytics:user:1234:analy:11-11"
    assert backend._get_daily_metric_key(1234, date(2009, 3, 5)) == "_analytics:user:1234:analy:09-03"
    assert backend._get_weekly_metric_key("1234", date(2011, 11, 15)) == "_analytics:user:1234:analy:11"
    assert backend._get_weekly_metric_key("1234", date(2005, 1, 31)) == "_analytics:user:1234:analy:05"
    assert prefixed._get_daily_metric_key("u", date(2011, 11, 15)) == "myapp:user:u:analy:11-11"
    assert prefixed._get_weekly_metric_key("u", date(2011, 11, 15)) == "myapp:user:u:analy:11"


def test_names(backend):
    assert backend._get_daily_metric_name("badge", date(2011, 11, 15)) == "badge:11-11-15"
    assert backend._get_daily_metric_name("badge", date(2009, 3, 5)) == "badge:09-03-05"
    assert backend._get_weekly_metric_name("badge", date(2011, 11, 14)) == "badge:11-11-14"
    assert backend._get_monthly_metric_name("badge", date(2011, 11, 15)) == "badge:11-11"
    assert backend._get_monthly_metric_name(7, date(2001, 2, 28)) == "7:01-02"


def test_the_helpers_name_what_tracking_writes(backend):
    backend.track_metric("1234", "badge", date(2011, 11, 16), inc_amt=2)
    client = backend.get_backend()
    assert client.hget(backend._get_daily_metric_key("1234", date(2011, 11, 16)),
                       backend._get_daily_metric_name("badge", date(2011, 11, 16))) == "2"
    week_key = backend._get_weekly_metric_key("1234", date(2011, 11, 16))
    assert client.hget(week_key, backend._get_weekly_metric_name("badge", date(2011, 11, 14))) == "2"
    assert client.hget(week_key, backend._get_monthly_metric_name("badge", date(2011, 11, 16))) == "2"


@pytest.mark.parametrize("day, delta, expected", [
    (date(2011, 11, 15), timedelta(days=30), [date(2011, 11, 15), date(2011, 12, 1)]),
    (date(2011, 11, 15), timedelta(days=65), [date(2011, 11, 15), date(2011, 12, 1), date(2012, 1, 1)]),
    (date(2011, 11, 15), timedelta(days=5), [date(2011, 11, 15)]),
    (date(2011, 11, 15), timedelta(days=15), [date(2011, 11, 15)]),
    (date(2011, 11, 15), timedelta(days=16), [date(2011, 11, 15), date(2011, 12, 1)]),
])
def test_daily_date_range(backend, day, delta, expected):
    assert backend._get_daily_date_range(day, delta) == expected


@pytest.mark.parametrize("day, delta, expected", [
    (date(2011, 11, 1), timedelta(weeks=12), [date(2011, 11, 1), date(2012, 1, 1)]),
    (date(2011, 11, 1), timedelta(weeks=2), [date(2011, 11, 1)]),
    (date(2011, 12, 25), timedelta(weeks=2), [date(2011, 12, 25), date(2012, 1, 1)]),
    # 2010-06-01 + 600 days is 2012-01-22.
    (date(2010, 6, 1), timedelta(days=600), [date(2010, 6, 1), date(2011, 1, 1), date(2012, 1, 1)]),
])
def test_weekly_date_range(backend, day, delta, expected):
    assert backend._get_weekly_date_range(day, delta) == expected


def test_parse_and_process_metrics(backend):
    series = [date(2011, 11, 1), date(2011, 11, 2), date(2011, 11, 3)]
    results = [["1", None, "4"], ["2", "3", None], [None, None, None]]
    assert backend._parse_and_process_metrics(series, results) == (
        {"2011-11-01", "2011-11-02", "2011-11-03"},
        {"2011-11-01": 3, "2011-11-02": 3, "2011-11-03": 4},
    )
    assert backend._parse_and_process_metrics([date(2011, 11, 1)], [[None]]) == ({"2011-11-01"}, {"2011-11-01": 0})


@pytest.mark.parametrize("start, end, weeks", [
    (date(2011, 11, 1), date(2011, 11, 30), 5),   # Mondays Oct 31, Nov 7, 14, 21, 28
    (date(2011, 11, 14), date(2011, 11, 14), 1),
    (date(2011, 11, 14), date(2011, 11, 20), 1),
    (date(2011, 11, 14), date(2011, 11, 21), 2),
    (date(2011, 12, 28), date(2012, 1, 2), 2),     # Mondays Dec 26 and Jan 2
])
def test_num_weeks(backend, start, end, weeks):
    assert backend._num_weeks(start, end) == weeks


@pytest.mark.parametrize("start, end, months", [
    (date(2011, 11, 15), date(2011, 11, 16), 1),
    (date(2011, 11, 30), date(2011, 12, 1), 2),
    (date(2011, 11, 15), date(2012, 2, 1), 4),
    (date(2010, 1, 1), date(2011, 12, 31), 24),
])
def test_num_months(backend, start, end, months):
    assert backend._num_months(start, end) == months
