"""The read calls as plans: series (hour to year), counts, and the field sums the syncs reuse.

A read adds up hash fields.  What it adds up is the same for every
``(uid, metric)`` of a call, so it is worked out once per call as a
:data:`FieldSums` table (hash period -> field date texts and the bucket each
one adds to), and then one HMGET per hash reads every pair's fields.
"""
import datetime
import functools
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from analytics import buckets, schema
from analytics.backends import arguments
from analytics.plans.steps import Batch, Keyspace, Plan

Pairs = List[Tuple[str, str]]
#: ``(set of "YYYY-MM-DD", {"YYYY-MM-DD": count})``, as 0.6.x returned.
Series = Tuple[Set[str], Dict[str, int]]
#: hash period (``yy-mm`` or ``yy``) -> (field date texts, bucket offset each one adds to).
FieldSums = Dict[str, Tuple[List[str], List[int]]]
DateLike = Any  # datetime.date or datetime.datetime, checked by buckets.as_date


def add_field(table: FieldSums, period: str, date_text: str, offset: int) -> None:
    date_texts, offsets = table.setdefault(period, ([], []))
    date_texts.append(date_text)
    offsets.append(offset)


def field_reads(ks: Keyspace, pairs: Pairs, table: FieldSums, width: int,
                hash_key: Callable[[str, str, str], str] = schema.user_hash) -> Tuple[List[Any], List[List[int]]]:
    """One HMGET per hash for ``width`` totals per pair, and where each field's value goes.

    ``hash_key(prefix, uid, period)`` names the hashes (0.6.x's by default, or the hour hashes).
    """
    wanted: Dict[str, Tuple[List[str], List[int]]] = {}
    prefix, fields = ks.prefix, schema.fields
    for index, (uid, name) in enumerate(pairs):
        base = index * width
        for period, (date_texts, offsets) in table.items():
            key = hash_key(prefix, uid, period)
            entry = wanted.get(key)
            if entry is None:
                entry = wanted[key] = ([], [])
            entry[0].extend(fields(name, date_texts))
            entry[1].extend([base + offset for offset in offsets])
    return [("HMGET", key, *names) for key, (names, _) in wanted.items()], [where for _, where in wanted.values()]


def add_up(positions: List[List[int]], replies: Sequence[Any], size: int) -> List[int]:
    """The ``size`` totals from the replies to :func:`field_reads`' HMGETs."""
    sums = [0] * size
    for where, values in zip(positions, replies):
        for position, value in zip(where, values):
            if value is not None:
                sums[position] += int(value)
    return sums


def sum_fields(ks: Keyspace, pairs: Pairs, table: FieldSums, width: int, atomic: bool = False,
               hash_key: Callable[[str, str, str], str] = schema.user_hash) -> Plan[List[int]]:
    """``width`` totals per pair, read with one batch of HMGETs (``atomic``: one snapshot per node)."""
    commands, positions = field_reads(ks, pairs, table, width, hash_key)
    replies = yield Batch(commands, atomic=atomic)
    return add_up(positions, replies, len(pairs) * width)


def series(ks: Keyspace, pairs: Pairs, from_date: DateLike, limit: Any, group: str) -> Plan[List[Series]]:
    if group == "hour":
        return (yield from hour_series(ks, pairs, from_date, limit))
    start, limit = buckets.local_date(from_date, ks.zone, "from_date"), arguments.limit(limit)
    table, labels = (_cached_table if limit <= CACHED_LIMIT else series_table)(start, limit, group)
    totals = yield from sum_fields(ks, pairs, table, limit)
    return shaped(labels, totals, len(pairs))


#: Series up to this many buckets have their field table kept (``CACHED_TABLES`` of them).
CACHED_LIMIT = 1000
CACHED_TABLES = 512


def series_table(start: datetime.date, limit: int, group: str) -> Tuple[FieldSums, List[str]]:
    """The fields a day, week, month or year series adds up, and its labels: the same for every pair.

    Callers must not change what it returns: a small series' table is cached,
    since dashboards and services ask for the same ranges over and over.
    """
    table: FieldSums = {}
    if group == "day":
        dates = buckets.days(start, limit)
        for offset, day in enumerate(dates):
            add_field(table, schema.yy_mm(day), schema.yy_mm_dd(day), offset)
    elif group == "week":
        dates = buckets.mondays(start, limit)
        for offset, monday in enumerate(dates):
            for year in buckets.week_years(monday):
                add_field(table, schema.year_period(year), schema.yy_mm_dd(monday), offset)
    elif group == "month":
        dates = buckets.months(start, limit)
        for offset, first in enumerate(dates):
            add_field(table, schema.yy(first), schema.yy_mm(first), offset)
    else:
        # A year is the sum of its twelve month counts, which its year hash holds already.
        dates = buckets.years(start, limit)
        for offset, first in enumerate(dates):
            period = schema.yy(first)
            for month in buckets.months_of_year(first):
                add_field(table, period, schema.yy_mm(month), offset)
    return table, buckets.series_text(dates)


_cached_table = functools.lru_cache(maxsize=CACHED_TABLES)(series_table)


def shaped(labels: List[str], totals: List[int], count: int) -> List[Series]:
    """``count`` series over ``labels`` from pair-major ``totals``."""
    width = len(labels)
    return [(set(labels), dict(zip(labels, totals[i * width:(i + 1) * width]))) for i in range(count)]


def hour_series(ks: Keyspace, pairs: Pairs, from_date: Any, limit: Any) -> Plan[List[Series]]:
    if not ks.hours:
        raise ValueError("hours are not counted by this backend: build it with hours=True")
    start, limit = buckets.hour_of(from_date, ks.zone, "from_datetime"), arguments.limit(limit)
    labels = [buckets.hour_label(hour) for hour in buckets.hours(start, limit)]
    table: FieldSums = {}
    for offset, label in enumerate(labels):
        day_text, time_text = schema.hour_parts(label)
        add_field(table, day_text, time_text, offset)
    totals = yield from sum_fields(ks, pairs, table, limit, hash_key=schema.hour_hash)
    return shaped(labels, totals, len(pairs))

def get_metric_by_day(ks: Keyspace, unique_identifier: Any, metric: Any, from_date: DateLike,
                      limit: int = 30) -> Plan[Series]:
    """``limit`` daily counts from ``from_date`` on, as ``(set of dates, {date: count})``."""
    pair = [(arguments.one_uid(unique_identifier), arguments.one_metric(metric))]
    return (yield from series(ks, pair, from_date, limit, "day"))[0]


def get_metric_by_week(ks: Keyspace, unique_identifier: Any, metric: Any, from_date: DateLike,
                       limit: int = 10) -> Plan[Series]:
    """``limit`` weekly counts from the Monday on or before ``from_date``, keyed by Monday."""
    pair = [(arguments.one_uid(unique_identifier), arguments.one_metric(metric))]
    return (yield from series(ks, pair, from_date, limit, "week"))[0]


def get_metric_by_month(ks: Keyspace, unique_identifier: Any, metric: Any, from_date: DateLike,
                        limit: int = 10) -> Plan[Series]:
    """``limit`` monthly counts from ``from_date``'s month on, keyed by the first of each month."""
    pair = [(arguments.one_uid(unique_identifier), arguments.one_metric(metric))]
    return (yield from series(ks, pair, from_date, limit, "month"))[0]


def get_metric_by_year(ks: Keyspace, unique_identifier: Any, metric: Any, from_date: DateLike,
                       limit: int = 5) -> Plan[Series]:
    """``limit`` yearly counts from ``from_date``'s year on, keyed ``"YYYY-01-01"``.

    A year's count is the sum of its month counts (read from the year hashes
    tracking already writes: no keys of its own)::

        >>> backend.get_metric_by_year("user:1", "comments", date(2025, 6, 1), limit=2)
        ({'2025-01-01', '2026-01-01'}, {'2025-01-01': 12, '2026-01-01': 4})
    """
    pair = [(arguments.one_uid(unique_identifier), arguments.one_metric(metric))]
    return (yield from series(ks, pair, from_date, limit, "year"))[0]


def get_metric_by_hour(ks: Keyspace, unique_identifier: Any, metric: Any, from_datetime: DateLike,
                       limit: int = 24) -> Plan[Series]:
    """``limit`` hourly counts from the hour of ``from_datetime`` on (a backend built with ``hours=True``).

    Keyed by each hour's local start with its UTC offset, in time order
    (``"2026-10-25T02:00+02:00"``, then ``"2026-10-25T02:00+01:00"`` on the
    25-hour day of Europe/Berlin; ``+00:00`` on a backend without a
    ``timezone``).  A ``date`` starts at its first hour.
    """
    pair = [(arguments.one_uid(unique_identifier), arguments.one_metric(metric))]
    return (yield from series(ks, pair, from_datetime, limit, "hour"))[0]


def get_metrics(ks: Keyspace, metric_identifiers: Iterable[Tuple[Any, Any]], from_date: DateLike, limit: int = 10,
                group_by: str = "week") -> Plan[List[Series]]:
    """One series per ``(uid, metric)`` pair, grouped by ``"hour"``, ``"day"``, ``"week"``, ``"month"`` or ``"year"``.

    ``"hour"`` needs a backend built with ``hours=True``, ``"year"`` one built
    with ``years=True`` (:meth:`get_metric_by_year` needs neither).
    """
    group = arguments.group_by(group_by)
    if group == "year" and not ks.years:
        raise ValueError("group_by='year' needs a backend built with years=True (0.6.x refused it, and so does a "
                         "backend without the option); get_metric_by_year() works on every backend")
    return (yield from series(ks, arguments.pairs(metric_identifiers), from_date, limit, group))


def counts(ks: Keyspace, pairs: Pairs, start_date: Optional[DateLike], end_date: Optional[DateLike]
           ) -> Plan[List[int]]:
    if start_date is None and end_date is None:
        if not pairs:
            return []
        prefix = ks.prefix
        replies = yield Batch([("GET", schema.counter_key(prefix, uid, name)) for uid, name in pairs], atomic=False)
        return [0 if value is None else int(value) for value in replies]
    first, last = arguments.date_range(start_date, end_date, ks.zone)
    if not pairs:
        return []
    table = _cached_range_table(first, last)
    return (yield from sum_fields(ks, pairs, table, 1))


def range_table(first: datetime.date, last: datetime.date) -> FieldSums:
    """What a count from ``first`` to ``last`` adds up: whole months' counts, and the other days'."""
    whole, single = buckets.split_range(first, last)
    table: FieldSums = {}
    for month in whole:
        add_field(table, schema.yy(month), schema.yy_mm(month), 0)
    for day in single:
        add_field(table, schema.yy_mm(day), schema.yy_mm_dd(day), 0)
    return table


# The same ranges come back call after call (this month, the last 30 days...);
# a range's table is at most a few months of days and one field per month.
_cached_range_table = functools.lru_cache(maxsize=CACHED_TABLES)(range_table)


def get_count(ks: Keyspace, unique_identifier: Any, metric: Any, start_date: Optional[DateLike] = None,
              end_date: Optional[DateLike] = None) -> Plan[int]:
    """The all-time count, or with both ``start_date`` and ``end_date`` the count of those days.

    A range with three or more firsts of month reads whole months from the
    monthly counts (as 0.6.x did), the rest day by day.
    """
    uid, name = arguments.one_uid(unique_identifier), arguments.one_metric(metric)
    if start_date is None and end_date is None:  # the everyday call, without counts()'s layer
        value = (yield Batch([("GET", schema.counter_key(ks.prefix, uid, name))], atomic=False))[0]
        return 0 if value is None else int(value)
    return (yield from counts(ks, [(uid, name)], start_date, end_date))[0]


def get_counts(ks: Keyspace, metric_identifiers: Iterable[Tuple[Any, Any]], start_date: Optional[DateLike] = None,
               end_date: Optional[DateLike] = None) -> Plan[List[int]]:
    """:func:`get_count` for every ``(uid, metric)`` pair (``start_date``/``end_date`` apply to all)."""
    return (yield from counts(ks, arguments.pairs(metric_identifiers), start_date, end_date))


