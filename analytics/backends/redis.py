"""The Redis backend: py-analytics 0.6.x's API, keys and results on Python 3.

Every public call checks its arguments first (nothing is sent when they are
wrong), names its keys with :mod:`analytics.schema`, its date buckets with
:mod:`analytics.buckets`, and sends one batch through its store: one pipeline
per Redis node it touches, all in flight at once.  Calls that must read before
they write (``set_metric_by_day`` and the ``sync_*`` calls) send two batches.
"""
import datetime
import itertools
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from analytics import buckets, schema
from analytics.backends import arguments
from analytics.backends.base import BaseAnalyticsBackend, Date, Series
from analytics.backends.legacy import LegacyHelpers
from analytics.stores.base import Command, Store
from analytics.stores.settings import build_store

# Swaps a day's count and returns the old one, atomically on every kind of store
# (a single-key script runs whole, also on Redis Cluster): the all-time counter
# is then moved by exactly (new - old), so concurrent writers lose no update.
SWAP_FIELD = "local old = redis.call('HGET', KEYS[1], ARGV[1]) redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return old"

Pairs = List[Tuple[str, str]]
#: What a read adds up, the same for every (uid, metric): hash period (``yy-mm``
#: or ``yy``) -> (field date texts, offset of the total each one adds to).
Plan = Dict[str, Tuple[List[str], List[int]]]


def _plan_add(plan: Plan, period: str, date_text: str, offset: int) -> None:
    date_texts, offsets = plan.setdefault(period, ([], []))
    date_texts.append(date_text)
    offsets.append(offset)


def _event(event: Any) -> Tuple[Any, Any, Any, Any]:
    """``(uid, metric, date, inc_amt)`` from an event of any accepted shape."""
    if isinstance(event, (str, bytes)) or not isinstance(event, Sequence) or len(event) not in (3, 4):
        raise TypeError("an event must be a (uid, metric, date) or (uid, metric, date, inc_amt) tuple, got %r"
                        % (event,))
    return (event[0], event[1], event[2], event[3] if len(event) == 4 else 1)


class Redis(LegacyHelpers, BaseAnalyticsBackend):
    """Counters in Redis: one host, a host list placed like 0.6.x's, or Redis Cluster.

    ``settings`` is 0.6.x's ``{"hosts": [...], "defaults": {...}}``, or
    ``{"cluster": ...}``, or ``{"client": redis_client}`` (see the README).
    The settings are checked here, before any connection is opened.
    """

    def __init__(self, settings: Mapping[str, Any], **kwargs: Any):
        super().__init__(settings, **kwargs)
        self.store: Store = build_store(settings)
        self._analytics_backend = self.store.native()

    # -- writes -----------------------------------------------------------------

    def track_metric(self, unique_identifier: Any, metric: Any, date: Optional[Date] = None,
                     inc_amt: int = 1, **kwargs: Any) -> List[List[int]]:
        """Add ``inc_amt`` to the day, week, month and all-time counts of every (uid, metric).

        ``unique_identifier`` and ``metric`` may each be one value or a list, tuple
        or generator of them.  ``date`` defaults to today.  Returns one
        ``[day, week, month, total]`` list of the new counts per pair, uid-major.
        """
        uids, metrics = arguments.uids(unique_identifier), arguments.metrics(metric)
        day = datetime.date.today() if date is None else buckets.as_date(date)
        amount = arguments.integer(inc_amt, "inc_amt")
        prefix = self._prefix
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
        replies = self.store.execute(commands)
        return [replies[i:i + 4] for i in range(0, len(replies), 4)]

    def track_metrics(self, events: Iterable[Sequence[Any]], chunk_size: int = 10000) -> int:
        """Track many events in bulk; returns how many were tracked.

        Each event is ``(uid, metric, date)`` or ``(uid, metric, date, inc_amt)``
        (``inc_amt`` defaults to 1, a ``None`` date means today), one uid and one
        metric each, checked like :meth:`track_metric`'s arguments.  ``events``
        may be any iterable, a generator of any length included: it is read
        ``chunk_size`` events at a time, so memory does not grow with it.  The
        increments of a chunk that hit the same counter are added up first, and
        the chunk is sent as one pipeline per host (without MULTI/EXEC).

        An invalid event raises ``TypeError`` or ``ValueError`` naming its index
        before anything of its chunk is sent; every earlier chunk has then been
        applied (``index // chunk_size * chunk_size`` events), no later one.
        A Redis error reply (e.g. a counter key holding a non-integer) is raised
        after the whole chunk ran, the other commands of that chunk applied.
        """
        size = arguments.integer(chunk_size, "chunk_size")
        if size < 1:
            raise ValueError("chunk_size must be at least 1, got %r" % (size,))
        if isinstance(events, (str, bytes, Mapping)) or not isinstance(events, Iterable):
            raise TypeError("events must be an iterable of (uid, metric, date[, inc_amt]) tuples, got %r" % (events,))
        stream = iter(events)
        done = 0
        while True:
            chunk = list(itertools.islice(stream, size))
            if not chunk:
                return done
            self.store.apply(self._bulk_commands(chunk, done))
            done += len(chunk)

    def _bulk_commands(self, chunk: List[Any], first_index: int) -> List[Command]:
        """The increments of ``chunk``, each counter once; raises on the first invalid event."""
        merged: Dict[Tuple[str, str, datetime.date], int] = {}
        get, date_type = merged.get, datetime.date
        for index, event in enumerate(chunk):
            try:
                uid, name, day, amount = event if type(event) is tuple and len(event) == 4 else _event(event)
                # Checks of the common types first: the full checks cost more than the rest of an event.
                if type(uid) is not str or not uid or not uid.isascii():
                    uid = arguments.one_uid(uid)
                if type(name) is not str or not name or not name.isascii():
                    name = arguments.one_metric(name)
                if type(day) is not date_type:
                    day = datetime.date.today() if day is None else buckets.as_date(day)
                if type(amount) is not int or not arguments.INT64_MIN <= amount <= arguments.INT64_MAX:
                    amount = arguments.integer(amount, "inc_amt")
            except (TypeError, ValueError) as exc:
                raise type(exc)("events[%d]: %s" % (first_index + index, exc)) from None
            key = (uid, name, day)
            merged[key] = get(key, 0) + amount

        prefix, parts, user_hash, counter_key, field = (
            self._prefix, schema.tracking_parts, schema.user_hash, schema.counter_key, schema.field)
        commands: List[Command] = []
        year_fields: Dict[Tuple[str, str], int] = {}
        totals: Dict[str, int] = {}
        for (uid, name, day), amount in merged.items():
            day_part, week_part, month_part, year_part = parts(day)
            commands.append(("HINCRBY", user_hash(prefix, uid, month_part), field(name, day_part), amount))
            year_key = user_hash(prefix, uid, year_part)
            week = (year_key, field(name, week_part))
            year_fields[week] = year_fields.get(week, 0) + amount
            month = (year_key, field(name, month_part))
            year_fields[month] = year_fields.get(month, 0) + amount
            total = counter_key(prefix, uid, name)
            totals[total] = totals.get(total, 0) + amount
        commands += [("HINCRBY", key, field, amount) for (key, field), amount in year_fields.items()]
        commands += [("INCRBY", key, amount) for key, amount in totals.items()]
        return commands

    def track_count(self, unique_identifier: Any, metric: Any, inc_amt: int = 1, **kwargs: Any) -> int:
        """Add ``inc_amt`` to the all-time count only; returns the new count."""
        key = schema.counter_key(self._prefix, arguments.one_uid(unique_identifier), arguments.one_metric(metric))
        return self.store.execute([("INCRBY", key, arguments.integer(inc_amt, "inc_amt"))])[0]

    def set_metric_by_day(self, unique_identifier: Any, metric: Any, date: Date, count: int,
                          sync_agg: bool = True, update_counter: bool = True) -> List[List[int]]:
        """Overwrite the day count of every (uid, metric) with ``count``.

        With ``update_counter`` the all-time count moves by the difference; with
        ``sync_agg`` the week and month of ``date`` are recomputed from their days.
        Returns ``[[1]]`` per pair whose day was new, ``[[0]]`` where it existed.
        """
        uids, metrics = arguments.uids(unique_identifier), arguments.metrics(metric)
        day = buckets.as_date(date)
        count = arguments.integer(count, "count")
        pairs = [(uid, name) for uid in uids for name in metrics]
        prefix = self._prefix
        writes: List[Command]
        if update_counter:
            writes = [("EVAL", SWAP_FIELD, 1, schema.month_hash(prefix, uid, day), schema.day_field(name, day), count)
                      for uid, name in pairs]
        else:
            writes = [("HSET", schema.month_hash(prefix, uid, day), schema.day_field(name, day), count)
                      for uid, name in pairs]
        reads: List[Command] = []
        positions: List[List[int]] = []
        targets: List[Tuple[str, str]] = []
        if sync_agg:
            plan, targets = self._sync_plan(day, day, weeks=True, months=True)
            reads, positions = self._field_reads(pairs, plan, len(targets))
        # The day's new value is swapped in before the sync reads it: same key,
        # same node, and a node runs its pipeline in order.
        replies = self.store.execute(writes + reads)
        done = replies[:len(writes)]
        totals = self._add_up(positions, replies[len(writes):], len(pairs) * len(targets))
        follow_up = self._sync_writes(pairs, targets, totals)
        if update_counter:
            follow_up += [("INCRBY", schema.counter_key(prefix, uid, name), count - int(old or 0))
                          for (uid, name), old in zip(pairs, done)]
            done = [0 if old is not None else 1 for old in done]
        if follow_up:
            self.store.execute(follow_up)
        return [[reply] for reply in done]

    def sync_agg_metric(self, unique_identifier: Any, metric: Any, start_date: Date, end_date: Date) -> None:
        """Recompute the weekly and monthly counts from ``start_date`` to ``end_date`` from the days."""
        self._sync(unique_identifier, metric, start_date, end_date, weeks=True, months=True)

    def sync_week_metric(self, unique_identifier: Any, metric: Any, start_date: Date, end_date: Date) -> None:
        """Recompute every week from ``start_date``'s Monday to ``end_date`` from its days."""
        self._sync(unique_identifier, metric, start_date, end_date, weeks=True, months=False)

    def sync_month_metric(self, unique_identifier: Any, metric: Any, start_date: Date, end_date: Date) -> None:
        """Recompute every month from ``start_date``'s month to ``end_date``'s from its days."""
        self._sync(unique_identifier, metric, start_date, end_date, weeks=False, months=True)

    def _sync(self, unique_identifier: Any, metric: Any, start_date: Any, end_date: Any,
              weeks: bool, months: bool) -> None:
        uids, metrics = arguments.uids(unique_identifier), arguments.metrics(metric)
        start, end = arguments.sync_range(start_date, end_date)
        pairs = [(uid, name) for uid in uids for name in metrics]
        plan, targets = self._sync_plan(start, end, weeks, months)
        # Each node's days are read in one snapshot, so a week or month is not
        # summed from a mix of before and after a concurrent write to that node.
        totals = self._sum_fields(pairs, plan, len(targets), atomic=True)
        self.store.execute(self._sync_writes(pairs, targets, totals))

    @staticmethod
    def _sync_plan(start: datetime.date, end: datetime.date, weeks: bool, months: bool
                   ) -> Tuple[Plan, List[Tuple[str, str]]]:
        """What a sync reads and writes, the same for every (uid, metric).

        Returns the day fields to add up (a :data:`Plan` whose offsets number the
        buckets) and, per bucket, the ``(year hash period, field date text)`` its
        total is written to.  Every bucket in the range is written, zeros
        included (K8).  A week that runs into January stores each year's part in
        that year's hash, where tracking puts it too, so that reads add up to the
        true week (C7).
        """
        synced: List[Tuple[Tuple[str, str], List[datetime.date]]] = []
        if weeks:
            for monday in buckets.mondays(start, buckets.count_weeks(start, end)):
                for year, days in buckets.week_days_by_year(monday):
                    synced.append(((schema.year_period(year), schema.yy_mm_dd(monday)), days))
        if months:
            for first in buckets.months(start, buckets.count_months(start, end)):
                synced.append(((schema.yy(first), schema.yy_mm(first)), buckets.days_in_month(first)))
        plan: Plan = {}
        for offset, (_, days) in enumerate(synced):
            for day in days:
                _plan_add(plan, schema.yy_mm(day), schema.yy_mm_dd(day), offset)
        return plan, [target for target, _ in synced]

    def _sync_writes(self, pairs: Pairs, targets: List[Tuple[str, str]], totals: List[int]) -> List[Command]:
        """One HSET per (pair, synced bucket) with its total (``totals`` is pair-major)."""
        width, prefix = len(targets), self._prefix
        return [("HSET", schema.user_hash(prefix, uid, period), schema.field(name, date_text), totals[i * width + t])
                for i, (uid, name) in enumerate(pairs) for t, (period, date_text) in enumerate(targets)]

    def clear_all(self) -> None:
        """Delete every key that starts with this backend's prefix and ``":"``, on every node.

        Keys are found with SCAN in bounded batches; no other key is touched.
        """
        self.store.delete_matching(schema.prefix_pattern(self._prefix))

    # -- reads ------------------------------------------------------------------

    def get_metric_by_day(self, unique_identifier: Any, metric: Any, from_date: Date, limit: int = 30,
                          **kwargs: Any) -> Series:
        """``limit`` daily counts from ``from_date`` on, as ``(set of dates, {date: count})``."""
        return self._series([(arguments.one_uid(unique_identifier), arguments.one_metric(metric))],
                            from_date, limit, "day")[0]

    def get_metric_by_week(self, unique_identifier: Any, metric: Any, from_date: Date, limit: int = 10,
                           **kwargs: Any) -> Series:
        """``limit`` weekly counts from the Monday on or before ``from_date``, keyed by Monday."""
        return self._series([(arguments.one_uid(unique_identifier), arguments.one_metric(metric))],
                            from_date, limit, "week")[0]

    def get_metric_by_month(self, unique_identifier: Any, metric: Any, from_date: Date, limit: int = 10,
                            **kwargs: Any) -> Series:
        """``limit`` monthly counts from ``from_date``'s month on, keyed by the first of each month."""
        return self._series([(arguments.one_uid(unique_identifier), arguments.one_metric(metric))],
                            from_date, limit, "month")[0]

    def get_metrics(self, metric_identifiers: Iterable[Tuple[Any, Any]], from_date: Date, limit: int = 10,
                    group_by: str = "week", **kwargs: Any) -> List[Series]:
        """One series per ``(uid, metric)`` pair, grouped by ``"day"``, ``"week"`` or ``"month"``."""
        group = arguments.group_by(group_by)
        return self._series(arguments.pairs(metric_identifiers), from_date, limit, group)

    def _series(self, pairs: Pairs, from_date: Any, limit: Any, group: str) -> List[Series]:
        start, limit = buckets.as_date(from_date, "from_date"), arguments.limit(limit)
        if group == "day":
            series = buckets.days(start, limit)
        elif group == "week":
            series = buckets.mondays(start, limit)
        else:
            series = buckets.months(start, limit)
        plan: Plan = {}
        for offset, bucket in enumerate(series):
            if group == "day":
                _plan_add(plan, schema.yy_mm(bucket), schema.yy_mm_dd(bucket), offset)
            elif group == "week":
                for year in buckets.week_years(bucket):
                    _plan_add(plan, schema.year_period(year), schema.yy_mm_dd(bucket), offset)
            else:
                _plan_add(plan, schema.yy(bucket), schema.yy_mm(bucket), offset)
        totals = self._sum_fields(pairs, plan, limit)
        labels = buckets.series_text(series)
        return [(set(labels), dict(zip(labels, totals[i * limit:(i + 1) * limit]))) for i in range(len(pairs))]

    def _field_reads(self, pairs: Pairs, plan: Plan, width: int) -> Tuple[List[Command], List[List[int]]]:
        """One HMGET per hash for ``width`` totals per pair, and where each field's value goes.

        ``plan`` maps a hash period (``yy-mm`` or ``yy``) to the field date texts
        every pair reads from that hash and the offset, below ``width``, of the
        total each one adds to.  It is built once per call, so a date is
        formatted once however many pairs there are.
        """
        wanted: Dict[str, Tuple[List[str], List[int]]] = {}
        prefix, user_hash, fields = self._prefix, schema.user_hash, schema.fields
        for index, (uid, name) in enumerate(pairs):
            base = index * width
            for period, (date_texts, offsets) in plan.items():
                key = user_hash(prefix, uid, period)
                entry = wanted.get(key)
                if entry is None:
                    entry = wanted[key] = ([], [])
                entry[0].extend(fields(name, date_texts))
                entry[1].extend([base + offset for offset in offsets])
        return [("HMGET", key, *names) for key, (names, _) in wanted.items()], [where for _, where in wanted.values()]

    @staticmethod
    def _add_up(positions: List[List[int]], replies: Sequence[Any], size: int) -> List[int]:
        """The ``size`` totals from the replies to :meth:`_field_reads`' HMGETs."""
        sums = [0] * size
        for where, values in zip(positions, replies):
            for position, value in zip(where, values):
                if value is not None:
                    sums[position] += int(value)
        return sums

    def _sum_fields(self, pairs: Pairs, plan: Plan, width: int, atomic: bool = False) -> List[int]:
        """``width`` totals per pair, read with one batch of HMGETs (``atomic``: one snapshot per node)."""
        commands, positions = self._field_reads(pairs, plan, width)
        replies = self.store.execute(commands, atomic=atomic)
        return self._add_up(positions, replies, len(pairs) * width)

    def get_count(self, unique_identifier: Any, metric: Any, start_date: Optional[Date] = None,
                  end_date: Optional[Date] = None, **kwargs: Any) -> int:
        """The all-time count, or with both ``start_date`` and ``end_date`` the count of those days.

        A range with three or more firsts of month reads whole months from the
        monthly counts (as 0.6.x did), the rest day by day.
        """
        return self._counts([(arguments.one_uid(unique_identifier), arguments.one_metric(metric))],
                            start_date, end_date)[0]

    def get_counts(self, metric_identifiers: Iterable[Tuple[Any, Any]], **kwargs: Any) -> List[int]:
        """:meth:`get_count` for every ``(uid, metric)`` pair (``start_date``/``end_date`` apply to all)."""
        return self._counts(arguments.pairs(metric_identifiers), kwargs.get("start_date"), kwargs.get("end_date"))

    def _counts(self, pairs: Pairs, start_date: Any, end_date: Any) -> List[int]:
        if start_date is None and end_date is None:
            if not pairs:
                return []
            prefix = self._prefix
            replies = self.store.execute([("GET", schema.counter_key(prefix, uid, name)) for uid, name in pairs],
                                         atomic=False)
            return [0 if value is None else int(value) for value in replies]
        whole, single = buckets.split_range(*arguments.date_range(start_date, end_date))
        plan: Plan = {}
        for first in whole:
            _plan_add(plan, schema.yy(first), schema.yy_mm(first), 0)
        for day in single:
            _plan_add(plan, schema.yy_mm(day), schema.yy_mm_dd(day), 0)
        return self._sum_fields(pairs, plan, 1)
