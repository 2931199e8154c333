"""The write calls as plans: tracking, bulk tracking, counters, setting days, syncs."""
import datetime
import functools
import itertools
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from analytics import buckets, schema
from analytics.backends import arguments
from analytics.plans import retention
from analytics.plans.reads import DateLike, FieldSums, Pairs, add_field, add_up, field_reads, sum_fields
from analytics.plans.steps import PAUSE, Batch, Keyspace, Plan, Take

Command = Tuple[Any, ...]
#: ``(year hash period, field date text, full year)`` of one synced bucket.
Target = Tuple[str, str, int]

# Swaps a day's count and returns the old one, atomically on every kind of store
# (a single-key script runs whole, also on Redis Cluster): the all-time counter
# is then moved by exactly (new - old), so concurrent writers lose no update.
SWAP_FIELD = "local old = redis.call('HGET', KEYS[1], ARGV[1]) redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return old"


def track_metric(ks: Keyspace, unique_identifier: Any, metric: Any, date: DateLike = None,
                 inc_amt: int = 1) -> Plan[List[List[int]]]:
    """Add ``inc_amt`` to the day, week, month and all-time counts of every (uid, metric).

    ``unique_identifier`` and ``metric`` may each be one value or a list, tuple
    or generator of them.  ``date`` defaults to today.  Returns one
    ``[day, week, month, total]`` list of the new counts per pair, uid-major.
    On a backend built with ``hours=True`` a ``datetime`` also adds to its
    hour (not reported in the result; a ``date`` alone adds no hour).
    """
    uids, metrics = arguments.uids(unique_identifier), arguments.metrics(metric)
    hour = None
    if ks.plain:
        day = datetime.date.today() if date is None else buckets.as_date(date)
    else:
        day, hour = buckets.moment(date, ks.zone)
    amount = arguments.integer(inc_amt, "inc_amt")
    prefix = ks.prefix
    day_part, week_part, month_part, year_part = schema.tracking_parts(day)
    field = schema.field
    fields = [(name, field(name, day_part), field(name, week_part), field(name, month_part)) for name in metrics]
    commands: List[Command] = []
    for uid in uids:
        month_key = schema.user_hash(prefix, uid, month_part)
        year_key = schema.user_hash(prefix, uid, year_part)
        for name, day_field, week_field, month_field in fields:
            commands += (
                ("HINCRBY", month_key, day_field, amount),
                ("HINCRBY", year_key, week_field, amount),
                ("HINCRBY", year_key, month_field, amount),
                ("INCRBY", schema.counter_key(prefix, uid, name), amount),
            )
    counted = len(commands)
    if not ks.plain:
        hours: Hours = {}
        if ks.hours and hour is not None:
            for uid in uids:
                for name in metrics:  # a pair given twice counts twice, as its day does
                    hours[(uid, name, hour)] = hours.get((uid, name, hour), 0) + amount
        commands += option_commands(ks, [(uid, day) for uid in uids], hours)
    replies = yield Batch(commands)
    return [replies[i:i + 4] for i in range(0, counted, 4)]


def option_commands(ks: Keyspace, days: Iterable[Tuple[str, datetime.date]],
                    hours: Mapping[Tuple[str, str, datetime.datetime], int],
                    sent: Optional[retention.Sent] = None) -> List[Command]:
    """What the options add to tracking: hour increments, and expiries of every hash written.

    ``days`` are the (uid, day) whose month and year hashes were written;
    ``hours`` the amounts per (uid, metric, hour start); ``sent``, in a bulk
    call, the expiries its earlier chunks sent (left out here).
    """
    prefix = ks.prefix
    commands: List[Command] = []
    hour_days: Dict[str, datetime.date] = {}
    for (uid, name, start), amount in hours.items():
        day_text, time_text = schema.hour_parts(buckets.hour_label(start))
        key = schema.hour_hash(prefix, uid, day_text)
        commands.append(("HINCRBY", key, schema.field(name, time_text), amount))
        hour_days[key] = start.date()
    expiries = [retention.hour_hash(ks, key, day) for key, day in hour_days.items()]
    written_months: Dict[str, datetime.date] = {}
    written_years: Dict[str, int] = {}
    for uid, day in days:
        written_months[schema.month_hash(prefix, uid, day)] = day
        written_years[schema.year_hash(prefix, uid, day.year)] = day.year
    expiries += [retention.month_hash(ks, key, day) for key, day in written_months.items()]
    expiries += [retention.year_hash(ks, key, year) for key, year in written_years.items()]
    given = [expiry for expiry in expiries if expiry is not None]
    return commands + (given if sent is None else sent.unsent(given))


def _event(event: Any) -> Tuple[Any, Any, Any, Any]:
    """``(uid, metric, date, inc_amt)`` from an event of any accepted shape."""
    if isinstance(event, (str, bytes)) or not isinstance(event, Sequence) or len(event) not in (3, 4):
        raise TypeError("an event must be a (uid, metric, date) or (uid, metric, date, inc_amt) tuple, got %r"
                        % (event,))
    return (event[0], event[1], event[2], event[3] if len(event) == 4 else 1)


def check_bulk(events: Any, chunk_size: Any, what: str = "events", shape: str = "(uid, metric, date[, inc_amt])"
               ) -> int:
    """``chunk_size``, checked with the shape of ``events`` (argument ``what``) before a bulk call starts."""
    size = arguments.integer(chunk_size, "chunk_size")
    if size < 1:
        raise ValueError("chunk_size must be at least 1, got %r" % (size,))
    if isinstance(events, (str, bytes, Mapping)) or not (hasattr(events, "__iter__") or hasattr(events, "__aiter__")):
        raise TypeError("%s must be an iterable of %s tuples, got %r" % (what, shape, events))
    return size


def track_metrics(ks: Keyspace, events: Iterable[Sequence[Any]], chunk_size: int = 10000) -> Plan[int]:
    """Track many events in bulk; returns how many were tracked.

    Each event is ``(uid, metric, date)`` or ``(uid, metric, date, inc_amt)``
    (``inc_amt`` defaults to 1, a ``None`` date means today), one uid and one
    metric each, checked like :meth:`track_metric`'s arguments.  ``events``
    may be any iterable, a generator of any length included (on the asyncio
    backend, an async iterable too): it is read
    ``chunk_size`` events at a time, so memory does not grow with it.  The
    increments of a chunk that hit the same counter are added up first, and
    the chunk is sent as one pipeline per host (without MULTI/EXEC).

    An invalid event raises ``TypeError`` or ``ValueError`` naming its index
    before anything of its chunk is sent; every earlier chunk has then been
    applied (``index // chunk_size * chunk_size`` events), no later one.
    A Redis error reply (e.g. a counter key holding a non-integer) is raised
    after the whole chunk ran, the other commands of that chunk applied.
    """
    size = check_bulk(events, chunk_size)
    stream = input_stream(events)
    sent = None if ks.plain else retention.Sent()
    done = 0
    while True:
        merged: Merged = {}
        hours: Hours = {}
        if ks.plain:
            taken = yield from read_chunk(stream, size, done, lambda piece, first: merge_events(merged, piece, first))
        else:
            taken = yield from read_chunk(stream, size, done, lambda piece, first: merge_events_with_options(
                ks, merged, hours, piece, first))
        if taken:
            commands = yield from bulk_commands(ks, merged)
            if not ks.plain:
                commands += option_commands(ks, [(uid, day) for uid, _, day in merged], hours, sent)
            yield Batch(commands, atomic=False, replies=False)
            done += taken
        if taken < size:
            return done


#: Events read from the caller's input at a time (a chunk is read in pieces).
PIECE = 500


def input_stream(events: Any) -> Any:
    """An iterator over a bulk call's ``events``: an async one for an async iterable."""
    return events.__aiter__() if hasattr(events, "__aiter__") else iter(events)


def read_chunk(stream: Any, size: int, first_index: int, merge: Callable[[List[Any], int], None]) -> Plan[int]:
    """Read up to ``size`` events of ``stream``, handing each piece to ``merge``; return how many were read.

    A chunk is read in pieces of :data:`PIECE`: between them an asyncio driver
    lets other tasks run.  ``merge(piece, index of its first event)``.
    """
    taken = 0
    while taken < size:
        piece = yield Take(stream, min(PIECE, size - taken))
        if not piece:
            break
        merge(piece, first_index + taken)
        taken += len(piece)
    return taken
#: ``(uid, metric, day) -> amount``: a chunk's increments, each counter once.
Merged = Dict[Tuple[str, str, datetime.date], int]
#: ``(uid, metric, hour start) -> amount``: a chunk's hour increments (``hours=True``).
Hours = Dict[Tuple[str, str, datetime.datetime], int]


def merge_events_with_options(ks: Keyspace, merged: Merged, hours: Hours, events: List[Any], first_index: int) -> None:
    """:func:`merge_events` on a backend with options: days (and hours) taken in its time zone."""
    zone, moment = ks.zone, buckets.moment
    for index, event in enumerate(events):
        try:
            uid, name, when, amount = event if type(event) is tuple and len(event) == 4 else _event(event)
            uid, name = arguments.event_names(uid, name)
            day, hour = moment(when, zone)
            if type(amount) is not int or not arguments.INT64_MIN <= amount <= arguments.INT64_MAX:
                amount = arguments.integer(amount, "inc_amt")
        except (TypeError, ValueError) as exc:
            raise type(exc)("events[%d]: %s" % (first_index + index, exc)) from None
        key = (uid, name, day)
        merged[key] = merged.get(key, 0) + amount
        if ks.hours and hour is not None:
            hour_key = (uid, name, hour)
            hours[hour_key] = hours.get(hour_key, 0) + amount


def merge_events(merged: Merged, events: List[Any], first_index: int) -> None:
    """Add ``events`` to ``merged``, checking each; raises on the first invalid one, naming its index."""
    get, date_type = merged.get, datetime.date
    for index, event in enumerate(events):
        try:
            uid, name, day, amount = event if type(event) is tuple and len(event) == 4 else _event(event)
            uid, name = arguments.event_names(uid, name)
            if type(day) is not date_type:
                day = datetime.date.today() if day is None else buckets.as_date(day)
            if type(amount) is not int or not arguments.INT64_MIN <= amount <= arguments.INT64_MAX:
                amount = arguments.integer(amount, "inc_amt")
        except (TypeError, ValueError) as exc:
            raise type(exc)("events[%d]: %s" % (first_index + index, exc)) from None
        key = (uid, name, day)
        merged[key] = get(key, 0) + amount


def bulk_commands(ks: Keyspace, merged: Merged) -> Plan[List[Command]]:
    """The increments of a merged chunk: one command per day, week, month field and counter."""
    parts, user_hash, counter_key = schema.tracking_parts, schema.user_hash, schema.counter_key
    prefix = ks.prefix
    commands: List[Command] = []
    append = commands.append
    year_fields: Dict[Tuple[str, str], int] = {}
    totals: Dict[str, int] = {}
    # (metric, day) -> (yy-mm, day field, yy, week field, month field): a chunk
    # repeats few of them, and naming them was a fifth of the loop's time.
    texts: Dict[Tuple[str, datetime.date], Tuple[str, str, str, str, str]] = {}
    for count, ((uid, name, day), amount) in enumerate(merged.items(), 1):
        if not count % PIECE:
            yield PAUSE
        named = texts.get((name, day))
        if named is None:
            day_part, week_part, month_part, year_part = parts(day)
            named = texts[(name, day)] = (month_part, schema.field(name, day_part), year_part,
                                          schema.field(name, week_part), schema.field(name, month_part))
        month_part, day_field, year_part, week_field, month_field = named
        append(("HINCRBY", user_hash(prefix, uid, month_part), day_field, amount))
        year_key = user_hash(prefix, uid, year_part)
        week = (year_key, week_field)
        year_fields[week] = year_fields.get(week, 0) + amount
        month = (year_key, month_field)
        year_fields[month] = year_fields.get(month, 0) + amount
        total = counter_key(prefix, uid, name)
        totals[total] = totals.get(total, 0) + amount
    # Straight off the dict, a piece at a time: a list of its items would be
    # one more tuple per field for the garbage collector to walk.
    fields = iter(year_fields.items())
    while True:
        piece = [("HINCRBY", key, name, amount) for (key, name), amount in itertools.islice(fields, 4 * PIECE)]
        commands += piece
        if len(piece) < 4 * PIECE:
            break
        yield PAUSE
    commands += [("INCRBY", key, amount) for key, amount in totals.items()]
    return commands


def track_count(ks: Keyspace, unique_identifier: Any, metric: Any, inc_amt: int = 1) -> Plan[int]:
    """Add ``inc_amt`` to the all-time count only; returns the new count."""
    key = schema.counter_key(ks.prefix, arguments.one_uid(unique_identifier), arguments.one_metric(metric))
    return (yield Batch([("INCRBY", key, arguments.integer(inc_amt, "inc_amt"))]))[0]


def set_counts(ks: Keyspace, counts: Iterable[Sequence[Any]], chunk_size: int = 10000) -> Plan[int]:
    """Replace all-time counts: each ``(uid, metric, count)`` becomes that pair's count; returns how many were given.

    The day, week and month counts are left as they are: this is what restoring
    a backup needs (``analytics import`` sets the exported counters with it),
    and what repairs a counter.  Each count is written with one ``SET``, without
    reading anything first.  ``counts`` may be any iterable (on the asyncio
    backend, an async iterable too), read ``chunk_size`` items at a time and
    sent as one pipeline per host per chunk; a pair given twice keeps its last
    count.  An invalid item raises ``TypeError`` or ``ValueError`` naming its
    index (``counts[i]: ...``) before anything of its chunk is sent, every
    earlier chunk applied.
    """
    size = check_bulk(counts, chunk_size, "counts", "(uid, metric, count)")
    stream = input_stream(counts)
    done = 0
    while True:
        latest: Dict[str, int] = {}
        taken = yield from read_chunk(stream, size, done,
                                      lambda piece, first: merge_counts(latest, ks.prefix, piece, first))
        if taken:
            yield Batch([("SET", key, count) for key, count in latest.items()], atomic=False, replies=False)
            done += taken
        if taken < size:
            return done


def merge_counts(latest: Dict[str, int], prefix: str, items: List[Any], first_index: int) -> None:
    """Note each ``(uid, metric, count)`` of ``items`` in ``latest`` (counter key -> count), checking each.

    Raises on the first invalid one, naming its index.
    """
    counter_key = schema.counter_key
    for index, item in enumerate(items, first_index):
        try:
            if type(item) is not tuple or len(item) != 3:
                if isinstance(item, (str, bytes)) or not isinstance(item, Sequence) or len(item) != 3:
                    raise TypeError("a count must be a (uid, metric, count) tuple, got %r" % (item,))
            uid, name = arguments.event_names(item[0], item[1])
            count = item[2]
            if type(count) is not int or not arguments.INT64_MIN <= count <= arguments.INT64_MAX:
                count = arguments.integer(count, "count")
        except (TypeError, ValueError) as exc:
            raise type(exc)("counts[%d]: %s" % (index, exc)) from None
        latest[counter_key(prefix, uid, name)] = count


def set_metric_by_day(ks: Keyspace, unique_identifier: Any, metric: Any, date: DateLike, count: int,
                      sync_agg: bool = True, update_counter: bool = True) -> Plan[List[List[int]]]:
    """Overwrite the day count of every (uid, metric) with ``count``.

    With ``update_counter`` the all-time count moves by the difference; with
    ``sync_agg`` the week and month of ``date`` are recomputed from their days.
    Returns ``[[1]]`` per pair whose day was new, ``[[0]]`` where it existed.
    """
    uids, metrics = arguments.uids(unique_identifier), arguments.metrics(metric)
    day = buckets.local_date(date, ks.zone)
    count = arguments.integer(count, "count")
    pairs = [(uid, name) for uid in uids for name in metrics]
    prefix = ks.prefix
    writes: List[Command]
    if update_counter:
        writes = [("EVAL", SWAP_FIELD, 1, schema.month_hash(prefix, uid, day), schema.day_field(name, day), count)
                  for uid, name in pairs]
    else:
        writes = [("HSET", schema.month_hash(prefix, uid, day), schema.day_field(name, day), count)
                  for uid, name in pairs]
    reads: List[Command] = []
    positions: List[List[int]] = []
    targets: List[Target] = []
    if sync_agg:
        table, targets = sync_table(day, day, weeks=True, months=True)
        reads, positions = field_reads(ks, pairs, table, len(targets))
    # The day's new value is swapped in before the sync reads it: same key,
    # same node, and a node runs its pipeline in order.
    month_keys = dict.fromkeys(schema.month_hash(prefix, uid, day) for uid in uids)
    expiries = [expiry for expiry in (retention.month_hash(ks, key, day) for key in month_keys) if expiry]
    replies = yield Batch(writes + reads + expiries)
    done = replies[:len(writes)]
    totals = add_up(positions, replies[len(writes):len(writes) + len(reads)], len(pairs) * len(targets))
    follow_up = sync_writes(ks, pairs, targets, totals)
    if update_counter:
        follow_up += [("INCRBY", schema.counter_key(prefix, uid, name), count - int(old or 0))
                      for (uid, name), old in zip(pairs, done)]
        done = [0 if old is not None else 1 for old in done]
    if follow_up:
        yield Batch(follow_up)
    return [[reply] for reply in done]


def sync_agg_metric(ks: Keyspace, unique_identifier: Any, metric: Any, start_date: DateLike,
                    end_date: DateLike) -> Plan[None]:
    """Recompute the weekly and monthly counts from ``start_date`` to ``end_date`` from the days."""
    yield from sync(ks, unique_identifier, metric, start_date, end_date, weeks=True, months=True)


def sync_week_metric(ks: Keyspace, unique_identifier: Any, metric: Any, start_date: DateLike,
                     end_date: DateLike) -> Plan[None]:
    """Recompute every week from ``start_date``'s Monday to ``end_date`` from its days."""
    yield from sync(ks, unique_identifier, metric, start_date, end_date, weeks=True, months=False)


def sync_month_metric(ks: Keyspace, unique_identifier: Any, metric: Any, start_date: DateLike,
                      end_date: DateLike) -> Plan[None]:
    """Recompute every month from ``start_date``'s month to ``end_date``'s from its days."""
    yield from sync(ks, unique_identifier, metric, start_date, end_date, weeks=False, months=True)


def sync(ks: Keyspace, unique_identifier: Any, metric: Any, start_date: Any, end_date: Any,
         weeks: bool, months: bool) -> Plan[None]:
    uids, metrics = arguments.uids(unique_identifier), arguments.metrics(metric)
    start, end = arguments.sync_range(start_date, end_date, ks.zone)
    pairs = [(uid, name) for uid in uids for name in metrics]
    if not pairs:
        # Nothing to sync, and the dates' table alone takes seconds over
        # centuries; the range is refused as it would be with pairs (a last
        # week ending past the calendar), and nothing else.
        if weeks:
            buckets.mondays(end, 1)
        return
    table, targets = sync_table(start, end, weeks, months)
    # Each node's days are read in one snapshot, so a week or month is not
    # summed from a mix of before and after a concurrent write to that node.
    totals = yield from sum_fields(ks, pairs, table, len(targets), atomic=True)
    writes = sync_writes(ks, pairs, targets, totals)
    if writes:
        yield Batch(writes)


@functools.lru_cache(maxsize=256)
def sync_table(start: datetime.date, end: datetime.date, weeks: bool, months: bool
               ) -> Tuple[FieldSums, List[Target]]:
    """What a sync reads and writes, the same for every (uid, metric).

    Cached (callers only read what it returns): it depends on the dates
    alone, and building it cost a sync of one month a tenth of its time.

    Returns the day fields to add up (offsets number the buckets) and, per
    bucket, the ``(year hash period, field date text, year)`` its total is
    written to.  Every bucket in the range is written, zeros included (K8).  A week that
    runs into January stores each year's part in that year's hash, where
    tracking puts it too, so that reads add up to the true week (C7).
    """
    synced: List[Tuple[Target, List[datetime.date]]] = []
    if weeks:
        for monday in buckets.mondays(start, buckets.count_weeks(start, end)):
            for year, days in buckets.week_days_by_year(monday):
                synced.append(((schema.year_period(year), schema.yy_mm_dd(monday), year), days))
    if months:
        for first in buckets.months(start, buckets.count_months(start, end)):
            synced.append(((schema.yy(first), schema.yy_mm(first), first.year), buckets.days_in_month(first)))
    table: FieldSums = {}
    for offset, (_, days) in enumerate(synced):
        for day in days:
            add_field(table, schema.yy_mm(day), schema.yy_mm_dd(day), offset)
    return table, [target for target, _ in synced]


def sync_writes(ks: Keyspace, pairs: Pairs, targets: List[Target], totals: List[int]) -> List[Command]:
    """One HSET per (pair, synced bucket) with its total (``totals`` is pair-major), and the year hashes' expiries."""
    width, prefix = len(targets), ks.prefix
    writes: List[Command] = [
        ("HSET", schema.user_hash(prefix, uid, period), schema.field(name, date_text), totals[i * width + t])
        for i, (uid, name) in enumerate(pairs) for t, (period, date_text, _) in enumerate(targets)]
    if ks.year_retention is not None:
        years = {write[1]: year for write, (_, _, year) in zip(writes, targets * len(pairs))}
        writes += [expiry for expiry in (retention.year_hash(ks, key, year) for key, year in years.items()) if expiry]
    return writes
