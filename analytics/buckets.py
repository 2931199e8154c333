"""Dates to hour, day, week, month and year buckets; time zones: pure calendar arithmetic, no Redis.

Weeks start on Monday.  Series are lists of ``datetime.date``; their text form
(``"YYYY-MM-DD"``) is what the read API returns.
"""
import calendar
import datetime
import functools
from typing import Any, List, Optional, Tuple

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


# -- years ---------------------------------------------------------------------

def years(start: Date, count: int) -> List[Date]:
    """``count`` Januaries 1st from ``start``'s year on."""
    if count > 0 and start.year + count - 1 > datetime.MAXYEAR:
        raise _outside("the year %d" % (start.year + count - 1), True)
    return [Date(start.year + i, 1, 1) for i in range(count)]


def months_of_year(first: Date) -> List[Date]:
    """The twelve firsts of month of ``first``'s year."""
    return [Date(first.year, month, 1) for month in range(1, 13)]


def whole_months_between(start: Date, end: Date) -> Tuple[List[Date], List[Date]]:
    """Split ``[start, end]`` into the months that lie wholly inside it and the days left over.

    Unlike :func:`split_range` (0.6.x's rule, for sums), every whole month counts,
    which is what a union of distinct members wants: as few sets as possible.
    """
    whole: List[Date] = []
    single: List[Date] = []
    day = start
    while day <= end:
        last = day.replace(day=calendar.monthrange(day.year, day.month)[1])
        if day.day == 1 and last <= end:
            whole.append(day)
        else:
            single.extend(days_between(day, min(last, end)))
        if last >= end:
            break
        day = last + ONE_DAY
    return whole, single


# -- time zones and hours ------------------------------------------------------
#
# A backend without a time zone keeps 0.6.x's reading of a date: the date part
# of whatever is passed, and the hour part for hours (the wall clock as given,
# labelled +00:00).  With a zone, an aware datetime is converted into it and a
# naive one is read as that zone's wall clock; a naive time that the zone skips
# (the spring gap) is moved past the gap, and an ambiguous one (the repeated
# autumn hour) is the first of the two unless its ``fold`` is 1.

UTC = datetime.timezone.utc
ONE_HOUR = datetime.timedelta(hours=1)


def localise(value: datetime.datetime, zone: Optional[datetime.tzinfo]) -> datetime.datetime:
    """``value`` as the wall clock in which its day and hour are taken."""
    if zone is None:
        return value if value.tzinfo is None else value.replace(tzinfo=None)
    try:
        if value.tzinfo is None or value.utcoffset() is None:
            value = value.replace(tzinfo=zone)
        # Through UTC, so that a wall time in a gap lands on a real one.
        return value.astimezone(UTC).astimezone(zone)
    except (OverflowError, ValueError):
        raise ValueError("%s cannot be placed in %s: it lies outside the calendar (years 1 to 9999)"
                         % (value, zone)) from None


def local_date(value: Any, zone: Optional[datetime.tzinfo], name: str = "date") -> Date:
    """The day ``value`` falls on in ``zone`` (without a zone: :func:`as_date`)."""
    if zone is not None and isinstance(value, datetime.datetime):
        return localise(value, zone).date()
    return as_date(value, name)


def now(zone: Optional[datetime.tzinfo]) -> datetime.datetime:
    """The current wall clock: the machine's local time, or ``zone``'s."""
    return datetime.datetime.now() if zone is None else datetime.datetime.now(zone)


def moment(value: Any, zone: Optional[datetime.tzinfo], name: str = "date"
           ) -> Tuple[Date, Optional[datetime.datetime]]:
    """``(day, start of its hour)`` of a tracked event; a ``date`` alone has no hour (``None``)."""
    if value is None:
        value = now(zone)
    if isinstance(value, datetime.datetime):
        local = localise(value, zone)
        return local.date(), local.replace(minute=0, second=0, microsecond=0)
    return as_date(value, name), None


def hour_of(value: Any, zone: Optional[datetime.tzinfo], name: str) -> datetime.datetime:
    """The start of the hour ``value`` lies in (a ``date``: its first hour, midnight or later)."""
    if isinstance(value, datetime.datetime):
        local = localise(value, zone)
    else:
        day = as_date(value, name)
        local = localise(datetime.datetime.combine(day, datetime.time()), zone)
    return local.replace(minute=0, second=0, microsecond=0)


def hours(start: datetime.datetime, count: int) -> List[datetime.datetime]:
    """``count`` consecutive hour starts from ``start``, in time order (23 or 25 a day across DST)."""
    result: List[datetime.datetime] = []
    current = start
    zone = start.tzinfo
    try:
        for index in range(count):
            result.append(current)
            if index + 1 == count:
                break
            if zone is None:
                current = current + ONE_HOUR
            else:
                current = (current.astimezone(UTC) + ONE_HOUR).astimezone(zone).replace(minute=0)
    except (OverflowError, ValueError):
        raise _outside("the hour %d hours after %s" % (len(result), start.isoformat()), True) from None
    return result


def hour_label(start: datetime.datetime) -> str:
    """``"2026-10-25T02:00+02:00"``: the hour's local start with its UTC offset (``+00:00`` without a zone)."""
    text = start.isoformat(timespec="minutes")
    return text if start.tzinfo is not None else text + "+00:00"


# -- where buckets end (for retention) -------------------------------------------

@functools.lru_cache(maxsize=4096)
def midnight_after(day: Date, zone: Optional[datetime.tzinfo]) -> int:
    """Seconds since the epoch at the local midnight that ends ``day`` (in UTC without a zone)."""
    if day == Date.max:
        return midnight_after(day - ONE_DAY, zone) + 86400
    start = datetime.datetime.combine(day + ONE_DAY, datetime.time(), tzinfo=zone or UTC)
    try:
        return int(start.timestamp())
    except (OverflowError, ValueError):  # zoneinfo cannot place year 1 everywhere; UTC then
        return int(start.replace(tzinfo=UTC).timestamp())


def month_end(first: Date, zone: Optional[datetime.tzinfo]) -> int:
    return midnight_after(first.replace(day=calendar.monthrange(first.year, first.month)[1]), zone)


def year_end(year: int, zone: Optional[datetime.tzinfo]) -> int:
    return midnight_after(Date(year, 12, 31), zone)


def week_end(monday: Date, zone: Optional[datetime.tzinfo]) -> int:
    sunday = monday.toordinal() + 6
    if sunday <= Date.max.toordinal():
        return midnight_after(Date.fromordinal(sunday), zone)
    return midnight_after(Date.max, zone) + 86400 * (sunday - Date.max.toordinal())


def hour_end(start: datetime.datetime) -> int:
    """Seconds since the epoch at the end of the hour starting at ``start`` (a naive start is UTC)."""
    aware = start if start.tzinfo is not None else start.replace(tzinfo=UTC)
    return int(aware.timestamp()) + 3600
