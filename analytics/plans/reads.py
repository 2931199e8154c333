"""The read calls as plans: series, counts, and the field sums the syncs reuse.

A read adds up hash fields.  What it adds up is the same for every
``(uid, metric)`` of a call, so it is worked out once per call as a
:data:`FieldSums` table (hash period -> field date texts and the bucket each
one adds to), and then one HMGET per hash reads every pair's fields.
"""
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

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


def field_reads(ks: Keyspace, pairs: Pairs, table: FieldSums, width: int) -> Tuple[List[Any], List[List[int]]]:
    """One HMGET per hash for ``width`` totals per pair, and where each field's value goes."""
    wanted: Dict[str, Tuple[List[str], List[int]]] = {}
    prefix, user_hash, fields = ks.prefix, schema.user_hash, schema.fields
    for index, (uid, name) in enumerate(pairs):
        base = index * width
        for period, (date_texts, offsets) in table.items():
            key = user_hash(prefix, uid, period)
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


def sum_fields(ks: Keyspace, pairs: Pairs, table: FieldSums, width: int, atomic: bool = False) -> Plan[List[int]]:
    """``width`` totals per pair, read with one batch of HMGETs (``atomic``: one snapshot per node)."""
    commands, positions = field_reads(ks, pairs, table, width)
    replies = yield Batch(commands, atomic=atomic)
    return add_up(positions, replies, len(pairs) * width)


def series(ks: Keyspace, pairs: Pairs, from_date: DateLike, limit: Any, group: str) -> Plan[List[Series]]:
    start, limit = buckets.as_date(from_date, "from_date"), arguments.limit(limit)
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
    else:
        dates = buckets.months(start, limit)
        for offset, first in enumerate(dates):
            add_field(table, schema.yy(first), schema.yy_mm(first), offset)
    totals = yield from sum_fields(ks, pairs, table, limit)
    labels = buckets.series_text(dates)
    return [(set(labels), dict(zip(labels, totals[i * limit:(i + 1) * limit]))) for i in range(len(pairs))]


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


def get_metrics(ks: Keyspace, metric_identifiers: Iterable[Tuple[Any, Any]], from_date: DateLike, limit: int = 10,
                group_by: str = "week") -> Plan[List[Series]]:
    """One series per ``(uid, metric)`` pair, grouped by ``"day"``, ``"week"`` or ``"month"``."""
    group = arguments.group_by(group_by)
    return (yield from series(ks, arguments.pairs(metric_identifiers), from_date, limit, group))


def counts(ks: Keyspace, pairs: Pairs, start_date: Optional[DateLike], end_date: Optional[DateLike]
           ) -> Plan[List[int]]:
    if start_date is None and end_date is None:
        if not pairs:
            return []
        prefix = ks.prefix
        replies = yield Batch([("GET", schema.counter_key(prefix, uid, name)) for uid, name in pairs], atomic=False)
        return [0 if value is None else int(value) for value in replies]
    whole, single = buckets.split_range(*arguments.date_range(start_date, end_date))
    table: FieldSums = {}
    for first in whole:
        add_field(table, schema.yy(first), schema.yy_mm(first), 0)
    for day in single:
        add_field(table, schema.yy_mm(day), schema.yy_mm_dd(day), 0)
    return (yield from sum_fields(ks, pairs, table, 1))


def get_count(ks: Keyspace, unique_identifier: Any, metric: Any, start_date: Optional[DateLike] = None,
              end_date: Optional[DateLike] = None) -> Plan[int]:
    """The all-time count, or with both ``start_date`` and ``end_date`` the count of those days.

    A range with three or more firsts of month reads whole months from the
    monthly counts (as 0.6.x did), the rest day by day.
    """
    pair = [(arguments.one_uid(unique_identifier), arguments.one_metric(metric))]
    return (yield from counts(ks, pair, start_date, end_date))[0]


def get_counts(ks: Keyspace, metric_identifiers: Iterable[Tuple[Any, Any]], start_date: Optional[DateLike] = None,
               end_date: Optional[DateLike] = None) -> Plan[List[int]]:
    """:func:`get_count` for every ``(uid, metric)`` pair (``start_date``/``end_date`` apply to all)."""
    return (yield from counts(ks, arguments.pairs(metric_identifiers), start_date, end_date))


