"""Dates to day, week and month buckets: pure calendar arithmetic, no Redis.

Weeks start on Monday.  Series are lists of ``datetime.date``; their text form
(``"YYYY-MM-DD"``) is what the read API returns.
"""
import calendar
import datetime
from typing import Any, List, Tuple

Date = datetime.date
ONE_DAY = datetime.timedelta(days=1)


def as_date(value: Any, name: str = "date") -> Date:
    """Accept a ``date`` or ``datetime`` (its time of day is ignored); reject anything else."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    raise TypeError("%s must be a datetime.date or datetime.datetime, got %r" % (name, value))


def monday_of(day: Date) -> Date:
    """The Monday on or before ``day``."""
    return day - datetime.timedelta(days=day.weekday())


def first_of_month(day: Date) -> Date:
    return day.replace(day=1)


def _outside(what: str, later: bool) -> ValueError:
    return ValueError("%s would need year %s, outside the calendar (years 1 to 9999)"
                      % (what, "10000" if later else "0"))


def add_months(first: Date, months: int) -> Date:
    """The first of the month ``months`` after ``first`` (which must be a first of month)."""
    index = first.year * 12 + first.month - 1 + months
    if not datetime.MINYEAR <= index // 12 <= datetime.MAXYEAR:
        raise _outside("the month %+d months from %s" % (months, first.strftime("%Y-%m")), months > 0)
    return Date(index // 12, index % 12 + 1, 1)


def shift(day: Date, count: int) -> Date:
    """``day`` plus ``count`` days; ``ValueError`` (not ``OverflowError``) past year 1 or 9999."""
    try:
        return day + datetime.timedelta(days=count)
    except OverflowError:
        raise _outside("%s %+d days" % (day, count), count > 0) from None


def days(start: Date, count: int) -> List[Date]:
    if count > 0:
        shift(start, count - 1)  # fail before building a huge list
    return [start + datetime.timedelta(days=i) for i in range(count)]


def mondays(start: Date, count: int) -> List[Date]:
    """``count`` Mondays from ``start``'s; the last week must end (Sunday) within the calendar."""
    monday = monday_of(start)
    if count > 0:
        shift(monday, 7 * count - 1)
    return [monday + datetime.timedelta(weeks=i) for i in range(count)]


def months(start: Date, count: int) -> List[Date]:
    first = first_of_month(start)
    if count > 0:
        add_months(first, count - 1)  # fail before building a huge list
    return [add_months(first, i) for i in range(count)]


def days_between(start: Date, end: Date) -> List[Date]:
    """Every day from ``start`` to ``end``, both included (empty when ``end < start``)."""
    return days(start, (end - start).days + 1)


def week_years(monday: Date) -> Tuple[int, ...]:
    """The years a week's days fall in: one, or two for a week that runs into January."""
    sunday = shift(monday, 6)
    return (monday.year,) if sunday.year == monday.year else (monday.year, sunday.year)


def week_days_by_year(monday: Date) -> List[Tuple[int, List[Date]]]:
    """The week's seven days grouped by year, in order."""
    groups: List[Tuple[int, List[Date]]] = []
    for day in days(monday, 7):
        if groups and groups[-1][0] == day.year:
            groups[-1][1].append(day)
        else:
            groups.append((day.year, [day]))
    return groups


def days_in_month(first: Date) -> List[Date]:
    # Not "next first of month - 1 day": December 9999 has no next month.
    return days(first, calendar.monthrange(first.year, first.month)[1])


def count_weeks(start: Date, end: Date) -> int:
    """How many weeks a sync from ``start`` to ``end`` covers (from ``start``'s Monday)."""
    return (end - monday_of(start)).days // 7 + 1


def count_months(start: Date, end: Date) -> int:
    """How many months a sync from ``start`` to ``end`` covers (from ``start``'s month)."""
    return (end.year - start.year) * 12 + (end.month - start.month) + 1


def month_starts_between(start: Date, end: Date) -> List[Date]:
    """Every first of month in ``[start, end]``."""
    # Counted in month numbers, so nothing is built past ``end`` (no month after December 9999).
    first = start.year * 12 + start.month - 1 + (start.day > 1)
    last = end.year * 12 + end.month - 1
    return [Date(index // 12, index % 12 + 1, 1) for index in range(first, last + 1)]


def split_range(start: Date, end: Date) -> Tuple[List[Date], List[Date]]:
    """Split ``[start, end]`` into (whole months to read from monthly totals, single days).

    As in 0.6.x (POLICY K7): with three or more firsts of month in the range,
    every month from the first one up to, not including, the last one is read
    as a whole month; the days before the first and from the last onwards are
    read one by one.  With fewer, every day is read.
    """
    starts = month_starts_between(start, end)
    if len(starts) < 3:
        return [], days_between(start, end)
    whole = starts[:-1]
    # days(), not days_between(start, starts[0] - ONE_DAY): that underflows when starts[0] is 0001-01-01.
    single = days(start, (starts[0] - start).days) + days_between(starts[-1], end)
    return whole, single


def series_text(series: List[Date]) -> List[str]:
    return [day.isoformat() for day in series]
