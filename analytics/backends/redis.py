"""The Redis backend: py-analytics 0.6.x's API, keys and results on Python 3.

Every public call checks its arguments first (nothing is sent when they are
wrong), names its keys with :mod:`analytics.schema`, its date buckets with
:mod:`analytics.buckets`, and sends one batch through its store: one pipeline
per Redis node it touches, all in flight at once.  Calls that must read before
they write (``set_metric_by_day`` and the ``sync_*`` calls) send two batches.
"""
import datetime
from typing import Any, Callable, Iterable, List, Mapping, Optional, Sequence, Tuple

from analytics import buckets, schema
from analytics.backends import arguments
from analytics.backends.base import BaseAnalyticsBackend, Date, Series
from analytics.backends.reads import Reads
from analytics.stores.base import Command, Store
from analytics.stores.settings import build_store

# Swaps a day's count and returns the old one, atomically on every kind of store
# (a single-key script runs whole, also on Redis Cluster): the all-time counter
# is then moved by exactly (new - old), so concurrent writers lose no update.
SWAP_FIELD = "local old = redis.call('HGET', KEYS[1], ARGV[1]) redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return old"

Pairs = List[Tuple[str, str]]


class Redis(BaseAnalyticsBackend):
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
        prefix, monday = self._prefix, buckets.monday_of(day)
        day_part, week_part, month_part = schema.yy_mm_dd(day), schema.yy_mm_dd(monday), schema.yy_mm(day)
        commands: List[Command] = []
        for uid in uids:
            month_key = schema.month_hash(prefix, uid, day)
            year_key = schema.year_hash(prefix, uid, day.year)
            for name in metrics:
                commands += (
                    ("HINCRBY", month_key, name + ":" + day_part, amount),
                    ("HINCRBY", year_key, name + ":" + week_part, amount),
                    ("HINCRBY", year_key, name + ":" + month_part, amount),
                    ("INCRBY", schema.counter_key(prefix, uid, name), amount),
                )
        replies = self.store.execute(commands)
        return [replies[i:i + 4] for i in range(0, len(replies), 4)]

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
        if update_counter:
            writes = [("EVAL", SWAP_FIELD, 1, schema.month_hash(prefix, uid, day), schema.day_field(name, day), count)
                      for uid, name in pairs]
        else:
            writes = [("HSET", schema.month_hash(prefix, uid, day), schema.day_field(name, day), count)
                      for uid, name in pairs]
        reads, write_back = self._sync_plan(uids, metrics, day, day, weeks=sync_agg, months=sync_agg)
        replies = self.store.execute(writes + reads.commands())
        done, read_replies = replies[:len(writes)], replies[len(writes):]
        follow_up = write_back(reads.totals(read_replies)) if sync_agg else []
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
        reads, write_back = self._sync_plan(uids, metrics, start, end, weeks, months)
        writes = write_back(reads.totals(self.store.execute(reads.commands())))
        self.store.execute(writes)

    def _sync_plan(self, uids: Sequence[str], metrics: Sequence[str], start: datetime.date,
                   end: datetime.date, weeks: bool, months: bool
                   ) -> Tuple[Reads, Callable[[List[int]], List[Command]]]:
        """The day reads a sync needs, and how to turn their totals into HSETs.

        Every bucket in the range is written, zeros included (K8).  A week that
        runs into January stores each year's part in that year's hash, where
        tracking puts it too, so that reads add up to the true week (C7).
        """
        reads, targets, prefix = Reads(), [], self._prefix
        week_parts = [(monday, part) for monday in buckets.mondays(start, buckets.count_weeks(start, end))
                      for part in buckets.week_days_by_year(monday)] if weeks else []
        firsts = buckets.months(start, buckets.count_months(start, end)) if months else []
        for uid in uids:
            for name in metrics:
                for monday, (year, days) in week_parts:
                    targets.append((schema.year_hash(prefix, uid, year), schema.week_field(name, monday)))
                    self._add_days(reads, reads.new_total(), uid, name, days)
                for first in firsts:
                    targets.append((schema.year_hash(prefix, uid, first.year), schema.month_field(name, first)))
                    self._add_days(reads, reads.new_total(), uid, name, buckets.days_in_month(first))

        def write_back(totals: List[int]) -> List[Command]:
            return [("HSET", key, field, total) for (key, field), total in zip(targets, totals)]

        return reads, write_back

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
        reads, prefix = Reads(), self._prefix
        for uid, name in pairs:
            for bucket in series:
                total = reads.new_total()
                if group == "day":
                    reads.field(total, schema.month_hash(prefix, uid, bucket), schema.day_field(name, bucket))
                elif group == "week":
                    for year in buckets.week_years(bucket):
                        reads.field(total, schema.year_hash(prefix, uid, year), schema.week_field(name, bucket))
                else:
                    reads.field(total, schema.year_hash(prefix, uid, bucket.year), schema.month_field(name, bucket))
        totals = reads.totals(self.store.execute(reads.commands(), atomic=False))
        labels = buckets.series_text(series)
        return [(set(labels), dict(zip(labels, totals[i * limit:(i + 1) * limit]))) for i in range(len(pairs))]

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
        reads, prefix = Reads(), self._prefix
        if start_date is None and end_date is None:
            for uid, name in pairs:
                reads.counter(reads.new_total(), schema.counter_key(prefix, uid, name))
        else:
            whole, single = buckets.split_range(*arguments.date_range(start_date, end_date))
            for uid, name in pairs:
                total = reads.new_total()
                for first in whole:
                    reads.field(total, schema.year_hash(prefix, uid, first.year), schema.month_field(name, first))
                self._add_days(reads, total, uid, name, single)
        return reads.totals(self.store.execute(reads.commands(), atomic=False))

    def _add_days(self, reads: Reads, total: int, uid: str, name: str, days: Iterable[datetime.date]) -> None:
        for day in days:
            reads.field(total, schema.month_hash(self._prefix, uid, day), schema.day_field(name, day))
