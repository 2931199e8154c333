"""Dates -> day, week and month buckets (pure): hand-checked cases and an exhaustive cover check."""
import datetime
import random

import pytest

from analytics import buckets

D = datetime.date
DT = datetime.datetime


def span(first, last):
    return [first + datetime.timedelta(days=i) for i in range((last - first).days + 1)]


def test_as_date():
    assert buckets.as_date(D(2012, 2, 29)) == D(2012, 2, 29)
    assert buckets.as_date(DT(2012, 2, 29, 23, 59, 59)) == D(2012, 2, 29)
    assert type(buckets.as_date(DT(2012, 2, 29, 1))) is D
    for bad in ("2012-02-29", 20120229, None, 1.5):
        with pytest.raises(TypeError):
            buckets.as_date(bad)
    with pytest.raises(TypeError, match="start_date"):
        buckets.as_date("x", "start_date")


@pytest.mark.parametrize("day, monday", [
    (D(2012, 1, 1), D(2011, 12, 26)),    # a Sunday
    (D(2012, 12, 31), D(2012, 12, 31)),  # a Monday
    (D(2013, 1, 6), D(2012, 12, 31)),
    (D(2013, 1, 7), D(2013, 1, 7)),
    (D(2012, 3, 1), D(2012, 2, 27)),
    (D(2016, 2, 29), D(2016, 2, 29)),
    (D(2014, 1, 1), D(2013, 12, 30)),
])
def test_monday_of(day, monday):
    assert buckets.monday_of(day) == monday


def test_add_months_and_firsts():
    assert buckets.first_of_month(D(2012, 2, 29)) == D(2012, 2, 1)
    assert buckets.add_months(D(2012, 12, 1), 1) == D(2013, 1, 1)
    assert buckets.add_months(D(2012, 1, 1), -1) == D(2011, 12, 1)
    assert buckets.add_months(D(2012, 1, 1), 25) == D(2014, 2, 1)
    assert buckets.add_months(D(2012, 11, 1), 0) == D(2012, 11, 1)


def test_series():
    assert buckets.days(D(2012, 2, 28), 3) == [D(2012, 2, 28), D(2012, 2, 29), D(2012, 3, 1)]
    assert buckets.days(D(2012, 2, 28), 0) == []
    assert buckets.mondays(D(2013, 1, 2), 2) == [D(2012, 12, 31), D(2013, 1, 7)]
    assert buckets.months(D(2012, 11, 30), 3) == [D(2012, 11, 1), D(2012, 12, 1), D(2013, 1, 1)]
    assert buckets.series_text([D(2012, 2, 29), D(1999, 1, 5)]) == ["2012-02-29", "1999-01-05"]


@pytest.mark.parametrize("monday, years", [
    (D(2012, 12, 24), (2012,)),
    (D(2012, 12, 31), (2012, 2013)),
    (D(2013, 12, 30), (2013, 2014)),
    (D(2014, 12, 29), (2014, 2015)),
    (D(2015, 12, 28), (2015, 2016)),
    (D(2018, 1, 1), (2018,)),
    (D(2012, 2, 27), (2012,)),
])
def test_week_years(monday, years):
    assert buckets.week_years(monday) == years


def test_week_days_by_year():
    assert buckets.week_days_by_year(D(2012, 12, 31)) == [
        (2012, [D(2012, 12, 31)]), (2013, span(D(2013, 1, 1), D(2013, 1, 6)))]
    assert buckets.week_days_by_year(D(2015, 12, 28)) == [
        (2015, span(D(2015, 12, 28), D(2015, 12, 31))), (2016, span(D(2016, 1, 1), D(2016, 1, 3)))]
    assert buckets.week_days_by_year(D(2012, 2, 27)) == [(2012, span(D(2012, 2, 27), D(2012, 3, 4)))]


@pytest.mark.parametrize("first, length", [
    (D(2012, 2, 1), 29), (D(2013, 2, 1), 28), (D(2000, 2, 1), 29), (D(1900, 2, 1), 28),
    (D(2012, 12, 1), 31), (D(2012, 4, 1), 30),
])
def test_days_in_month(first, length):
    days = buckets.days_in_month(first)
    assert len(days) == length and days[0] == first and days == span(first, days[-1])
    assert (days[-1] + datetime.timedelta(days=1)).day == 1


def test_days_between():
    assert buckets.days_between(D(2012, 12, 30), D(2013, 1, 2)) == span(D(2012, 12, 30), D(2013, 1, 2))
    assert buckets.days_between(D(2012, 12, 30), D(2012, 12, 30)) == [D(2012, 12, 30)]
    assert buckets.days_between(D(2012, 12, 30), D(2012, 12, 29)) == []


@pytest.mark.parametrize("start, end, weeks, months", [
    (D(2012, 12, 20), D(2013, 1, 10), 4, 2),     # Mondays 12-17 .. 01-07; Dec, Jan
    (D(2012, 11, 15), D(2013, 2, 1), 12, 4),
    (D(2012, 12, 24), D(2012, 12, 24), 1, 1),
    (D(2012, 12, 30), D(2012, 12, 31), 2, 1),    # Sunday then Monday
    (D(2011, 12, 31), D(2012, 1, 1), 1, 2),
])
def test_sync_counts(start, end, weeks, months):
    assert buckets.count_weeks(start, end) == weeks
    assert buckets.count_months(start, end) == months


def test_month_starts_between():
    assert buckets.month_starts_between(D(2012, 1, 2), D(2012, 3, 31)) == [D(2012, 2, 1), D(2012, 3, 1)]
    assert buckets.month_starts_between(D(2012, 1, 1), D(2012, 3, 31)) == [D(2012, 1, 1), D(2012, 2, 1), D(2012, 3, 1)]
    assert buckets.month_starts_between(D(2012, 1, 2), D(2012, 1, 31)) == []
    assert buckets.month_starts_between(D(2012, 12, 15), D(2013, 1, 1)) == [D(2013, 1, 1)]


def test_split_range_cases():
    # Three month starts: Jan and Feb whole, March day by day (queries.json count_three_month_starts_monthly_path).
    assert buckets.split_range(D(2012, 1, 1), D(2012, 3, 31)) == (
        [D(2012, 1, 1), D(2012, 2, 1)], span(D(2012, 3, 1), D(2012, 3, 31)))
    # Two month starts: every day.
    assert buckets.split_range(D(2012, 1, 2), D(2012, 3, 31)) == ([], span(D(2012, 1, 2), D(2012, 3, 31)))
    assert buckets.split_range(D(2012, 1, 15), D(2012, 4, 1)) == (
        [D(2012, 2, 1), D(2012, 3, 1)], span(D(2012, 1, 15), D(2012, 1, 31)) + [D(2012, 4, 1)])
    assert buckets.split_range(D(2012, 2, 29), D(2012, 2, 29)) == ([], [D(2012, 2, 29)])


def test_split_range_covers_each_day_once():
    rng = random.Random(20121231)
    origin = D(2011, 10, 1)
    for _ in range(3000):
        start = origin + datetime.timedelta(days=rng.randrange(600))
        end = start + datetime.timedelta(days=rng.randrange(200))
        whole, single = buckets.split_range(start, end)
        covered = list(single)
        for first in whole:
            assert first.day == 1
            month_end = (first.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1)
            covered += span(first, month_end)
        assert sorted(covered) == span(start, end), (start, end)
        firsts = [day for day in span(start, end) if day.day == 1]
        assert whole == (firsts[:-1] if len(firsts) >= 3 else [])
