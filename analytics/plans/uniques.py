"""Unique counts as plans: distinct members per hour, day, week and month, in HyperLogLogs.

Every HyperLogLog of one (uid, metric) is placed by the pair's anchor
(:func:`analytics.schema.unique_anchor`): one slot on Redis Cluster (a hash
tag), one host on a host list.  A read of any range is then one batch to one
node, and a union over many buckets is a single ``PFCOUNT``.

A HyperLogLog estimates: Redis' has a standard error of 0.81%, and is exact in
practice for a few dozen members (its sparse form counts small sets exactly
unless two members collide in one register).
"""
import datetime
import functools
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from analytics import buckets, schema
from analytics.backends import arguments
from analytics.plans import retention
from analytics.plans.reads import DateLike, Series
from analytics.plans.steps import Batch, Keyspace, Plan
from analytics.plans.writes import check_bulk, input_stream, read_chunk

Command = Tuple[Any, ...]
#: ``(kind, bucket text, end in seconds since the epoch)`` of one HyperLogLog an event goes into.
Bucket = Tuple[str, str, int]


def event_buckets(ks: Keyspace, day: datetime.date, hour: Optional[datetime.datetime]) -> List[Bucket]:
    """The day, week, month (and, with hours on, hour) an event dated ``day``/``hour`` is counted in."""
    found = list(day_buckets(day, ks.zone))
    if ks.hours and hour is not None:
        found.append(("h", buckets.hour_label(hour), buckets.hour_end(hour)))
    return found


@functools.lru_cache(maxsize=4096)
def day_buckets(day: datetime.date, zone: Optional[datetime.tzinfo]) -> Tuple[Bucket, ...]:
    """The day, week and month of ``day``; cached, as events cluster on a few recent days."""
    monday, first = buckets.monday_of(day), day.replace(day=1)
    return (
        ("d", day.isoformat(), buckets.midnight_after(day, zone)),
        ("w", monday.isoformat(), buckets.week_end(monday, zone)),
        ("m", first.isoformat()[:7], buckets.month_end(first, zone)),
    )


def keep_of(ks: Keyspace, kind: str) -> Optional[int]:
    """How long a HyperLogLog of ``kind`` is kept after its bucket ends: an hour's as hours are."""
    return ks.retention["hour" if kind == "h" else "unique"]


def adds(ks: Keyspace, anchor: str, members: Sequence[str], found: Iterable[Bucket]) -> List[Command]:
    """One ``PFADD`` of every member per bucket, each followed by its ``EXPIREAT`` when it expires."""
    commands: List[Command] = []
    for kind, text, end in found:
        key = schema.unique_key(anchor, kind, text)
        commands.append(("PFADD", key, *members))
        keep = keep_of(ks, kind)
        if keep is not None:
            commands.append(retention.expire_at(key, end + keep))
    return commands


def track_unique(ks: Keyspace, unique_identifier: Any, metric: Any, members: Any,
                 date: DateLike = None) -> Plan[None]:
    """Record ``members`` (one, or an iterable of them) as seen by (uid, metric) on ``date``.

    A member is a str or an int (``1234`` and ``"1234"`` are the same member),
    e.g. a user id or an IP address.  It goes into the HyperLogLogs of its day,
    week and month (and hour, for a ``datetime`` on a backend built with
    ``hours=True``); ``date`` defaults to now.  Counting a member again changes
    nothing.  Returns ``None``::

        >>> backend.track_unique("page:home", "visitors", ["10.0.0.1", "10.0.0.2"], date(2026, 11, 23))
    """
    uid, name = arguments.one_uid(unique_identifier), arguments.one_metric(metric)
    values = arguments.members(members)
    day, hour = buckets.moment(date, ks.zone)
    if not values:
        return None
    anchor = schema.unique_anchor(ks.prefix, uid, name)
    commands = adds(ks, anchor, values, event_buckets(ks, day, hour))
    yield Batch(commands, places=[anchor] * len(commands))
    return None


def track_uniques(ks: Keyspace, events: Iterable[Sequence[Any]], chunk_size: int = 10000) -> Plan[int]:
    """Record many members in bulk; returns how many events there were.

    Each event is ``(uid, metric, member)`` or ``(uid, metric, member, date)``
    (a ``None`` or missing date means now), checked like
    :meth:`track_unique`'s arguments.  ``events`` is read ``chunk_size`` at a
    time, as :meth:`track_metrics` reads its events (an async iterable too on
    the asyncio backend); the members of a chunk that go into the same
    HyperLogLog are sent in one ``PFADD``, and the chunk as one pipeline per
    host.  A bad event raises naming its index before anything of its chunk
    is sent.
    """
    size = check_bulk(events, chunk_size)
    stream = input_stream(events)
    done = 0
    while True:
        merged: Members = {}
        taken = yield from read_chunk(stream, size, done, lambda piece, first: merge_members(ks, merged, piece, first))
        if taken:
            commands, places = bulk_adds(ks, merged)
            yield Batch(commands, atomic=False, replies=False, places=places)
            done += taken
        if taken < size:
            return done


def _unique_event(event: Any) -> Tuple[Any, Any, Any, Any]:
    if isinstance(event, (str, bytes)) or not isinstance(event, Sequence) or len(event) not in (3, 4):
        raise TypeError("an event must be a (uid, metric, member) or (uid, metric, member, date) tuple, got %r"
                        % (event,))
    return (event[0], event[1], event[2], event[3] if len(event) == 4 else None)


#: ``(anchor, kind, bucket text, end) -> members``: a chunk's members per HyperLogLog, each once, in order.
Members = Dict[Tuple[str, str, str, int], Dict[str, None]]


def merge_members(ks: Keyspace, merged: Members, events: List[Any], first_index: int) -> None:
    """Add the members of ``events`` to ``merged``, checking each event; a bad one raises naming its index."""
    # Events share a few pairs and dates: their anchors and buckets are worked out once per piece.
    anchors: Dict[Tuple[str, str], str] = {}
    found: Dict[Any, List[Bucket]] = {}
    date_type, prefix, zone = datetime.date, ks.prefix, ks.zone
    for index, event in enumerate(events):
        try:
            uid, name, member, when = event if type(event) is tuple and len(event) == 4 else _unique_event(event)
            uid, name = arguments.event_names(uid, name)
            if type(member) is not str or not member or not member.isascii():
                member = arguments.name(member, "member")
            buckets_of = found.get(when) if type(when) is date_type else None
            if buckets_of is None:
                buckets_of = event_buckets(ks, *buckets.moment(when, zone))
                if type(when) is date_type:
                    found[when] = buckets_of
        except (TypeError, ValueError) as exc:
            raise type(exc)("events[%d]: %s" % (first_index + index, exc)) from None
        anchor = anchors.get((uid, name))
        if anchor is None:
            anchor = anchors[(uid, name)] = schema.unique_anchor(prefix, uid, name)
        for kind, text, end in buckets_of:
            merged.setdefault((anchor, kind, text, end), {})[member] = None


def bulk_adds(ks: Keyspace, merged: Members) -> Tuple[List[Command], List[str]]:
    """The ``PFADD``s (and expiries) of a merged chunk, and the anchor that places each."""
    commands: List[Command] = []
    places: List[str] = []
    for (anchor, kind, text, end), members in merged.items():
        added = adds(ks, anchor, list(members), [(kind, text, end)])
        commands += added
        places += [anchor] * len(added)
    return commands, places


def unique_series(ks: Keyspace, unique_identifier: Any, metric: Any, from_date: Any, limit: Any,
                  group: str) -> Plan[Series]:
    uid, name = arguments.one_uid(unique_identifier), arguments.one_metric(metric)
    if group == "h":
        if not ks.hours:
            raise ValueError("hours are not counted by this backend: build it with hours=True")
        start = buckets.hour_of(from_date, ks.zone, "from_datetime")
        labels = [buckets.hour_label(hour) for hour in buckets.hours(start, arguments.limit(limit))]
        texts = labels
    else:
        day, count = buckets.local_date(from_date, ks.zone, "from_date"), arguments.limit(limit)
        dates = (buckets.days if group == "d" else buckets.mondays if group == "w" else buckets.months)(day, count)
        labels = buckets.series_text(dates)
        texts = labels if group != "m" else [label[:7] for label in labels]
    if not labels:
        return set(), {}
    anchor = schema.unique_anchor(ks.prefix, uid, name)
    commands: List[Command] = [("PFCOUNT", schema.unique_key(anchor, group, text)) for text in texts]
    replies = yield Batch(commands, atomic=False, places=[anchor] * len(commands))
    return set(labels), dict(zip(labels, (int(reply) for reply in replies)))


def get_unique_by_hour(ks: Keyspace, unique_identifier: Any, metric: Any, from_datetime: DateLike,
                       limit: int = 24) -> Plan[Series]:
    """Distinct members of ``limit`` hours from ``from_datetime``'s (``hours=True``), keyed as ``get_metric_by_hour``."""
    return (yield from unique_series(ks, unique_identifier, metric, from_datetime, limit, "h"))


def get_unique_by_day(ks: Keyspace, unique_identifier: Any, metric: Any, from_date: DateLike,
                      limit: int = 30) -> Plan[Series]:
    """Distinct members of each of ``limit`` days from ``from_date``, as ``(set of dates, {date: count})``."""
    return (yield from unique_series(ks, unique_identifier, metric, from_date, limit, "d"))


def get_unique_by_week(ks: Keyspace, unique_identifier: Any, metric: Any, from_date: DateLike,
                       limit: int = 10) -> Plan[Series]:
    """Distinct members of each of ``limit`` weeks from the Monday on or before ``from_date``, keyed by Monday."""
    return (yield from unique_series(ks, unique_identifier, metric, from_date, limit, "w"))


def get_unique_by_month(ks: Keyspace, unique_identifier: Any, metric: Any, from_date: DateLike,
                        limit: int = 10) -> Plan[Series]:
    """Distinct members of each of ``limit`` months from ``from_date``'s, keyed by the first of the month."""
    return (yield from unique_series(ks, unique_identifier, metric, from_date, limit, "m"))


def get_unique_count(ks: Keyspace, unique_identifier: Any, metric: Any, start_date: DateLike,
                     end_date: DateLike) -> Plan[int]:
    """Distinct members from ``start_date`` to ``end_date`` (both included; a reversed range is swapped).

    A union, not a sum: a member seen on several days counts once.  Read as
    the whole months of the range plus its other days, in one ``PFCOUNT``::

        >>> backend.get_unique_count("page:home", "visitors", date(2026, 1, 1), date(2026, 12, 31))
        48213
    """
    uid, name = arguments.one_uid(unique_identifier), arguments.one_metric(metric)
    if start_date is None or end_date is None:
        raise ValueError("get_unique_count needs both start_date and end_date")
    whole, single = buckets.whole_months_between(*arguments.date_range(start_date, end_date, ks.zone))
    anchor = schema.unique_anchor(ks.prefix, uid, name)
    keys = [schema.unique_key(anchor, "m", first.isoformat()[:7]) for first in whole]
    keys += [schema.unique_key(anchor, "d", day.isoformat()) for day in single]
    return int((yield Batch([("PFCOUNT", *keys)], atomic=False, places=[anchor]))[0])
