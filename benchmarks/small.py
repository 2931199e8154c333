"""The small calls: each public call with a small argument, next to hand-written redis-py doing the same commands.

Every baseline sends what the library sends (the table's command counts say
so: they are counted on the servers), with keys and fields by string
formatting as in :mod:`benchmarks.plain`.  A baseline that needs two round
trips (``set_metric_by_day`` reads the days it sums before it writes the week
and month) is written once, as a generator of its pipelines: it yields
``(transaction, commands)`` and is sent back the replies in order.
:func:`run_sync` sends them with ``redis.Redis.pipeline()`` and
:func:`run_async` with ``redis.asyncio``'s, one pipeline per host, executed one
host after the other, as ordinary redis-py code does.

The reads run over the data ``benchmarks.run`` loads for its read rows:
``user0``/``metric0`` has a count on every day of 2025 and 2026.
"""
import datetime
from typing import Any, Callable, Dict, Generator, List, Sequence, Tuple

from analytics.plans.writes import SWAP_FIELD

#: ``(transaction, commands)`` a baseline sends in one round trip; it is sent back their replies.
Steps = Generator[Tuple[bool, List[Tuple[Any, ...]]], List[Any], Any]

UID, METRIC = "user0", "metric0"
WRITE_UID, WRITE_METRIC = "user7", "metric7"
#: A Wednesday whose week lies in its month: a by-hand set_metric_by_day reads one hash.
SET_DAY = datetime.date(2026, 1, 14)
#: Four whole weeks in one month (Monday to Sunday): a by-hand sync reads one hash.
SYNC_FROM, SYNC_TO = datetime.date(2025, 3, 3), datetime.date(2025, 3, 30)
WEEKS_FROM = datetime.date(2025, 1, 6)
MONTHS_FROM = datetime.date(2025, 1, 1)
DAYS_FROM = datetime.date(2026, 1, 1)


def _yy(day: datetime.date) -> str:
    return "%02d" % (day.year % 100)


def _ymd(day: datetime.date) -> str:
    return "%02d-%02d-%02d" % (day.year % 100, day.month, day.day)


def _ym(day: datetime.date) -> str:
    return "%02d-%02d" % (day.year % 100, day.month)


def _days(first: datetime.date, count: int) -> List[datetime.date]:
    return [first + datetime.timedelta(days=i) for i in range(count)]


def _month_days(day: datetime.date) -> List[datetime.date]:
    first = day.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return _days(first, (following - first).days)


def _number(value: Any) -> int:
    return 0 if value is None else int(value)


class Baselines:
    """The by-hand version of each small call, for the key prefix ``prefix``."""

    def __init__(self, prefix: str = "_analytics"):
        self.prefix = prefix

    def hash_key(self, uid: str, period: str) -> str:
        return "%s:user:%s:analy:%s" % (self.prefix, uid, period)

    def counter_key(self, uid: str, metric: str) -> str:
        return "%s:analy:%s:count:%s" % (self.prefix, uid, metric)

    def track_count(self, uid: str, metric: str, amount: int) -> Steps:
        replies = yield True, [("INCRBY", self.counter_key(uid, metric), amount)]
        return replies[0]

    def get_count(self, uid: str, metric: str) -> Steps:
        replies = yield False, [("GET", self.counter_key(uid, metric))]
        return _number(replies[0])

    def get_counts_one(self, uid: str, metric: str) -> Steps:
        replies = yield False, [("GET", self.counter_key(uid, metric))]
        return [_number(replies[0])]

    def series(self, uid: str, metric: str, period: str, texts: List[str], labels: List[str]) -> Steps:
        """One HMGET of one hash; the result as the library shapes a series."""
        replies = yield False, [("HMGET", self.hash_key(uid, period)) + tuple("%s:%s" % (metric, t) for t in texts)]
        return set(labels), {label: _number(value) for label, value in zip(labels, replies[0])}

    def by_day(self, uid: str, metric: str, start: datetime.date, limit: int) -> Steps:
        days = _days(start, limit)  # within one month (the benchmark's range)
        return (yield from self.series(uid, metric, _ym(start), [_ymd(d) for d in days], [d.isoformat() for d in days]))

    def by_week(self, uid: str, metric: str, monday: datetime.date, limit: int) -> Steps:
        mondays = [monday + datetime.timedelta(weeks=i) for i in range(limit)]  # within one year
        return (yield from self.series(uid, metric, _yy(monday), [_ymd(d) for d in mondays],
                                       [d.isoformat() for d in mondays]))

    def by_month(self, uid: str, metric: str, first: datetime.date, limit: int) -> Steps:
        firsts = [first.replace(month=first.month + i) for i in range(limit)]  # within one year
        return (yield from self.series(uid, metric, _yy(first), [_ym(d) for d in firsts],
                                       [d.isoformat() for d in firsts]))

    def set_metric_by_day(self, uid: str, metric: str, day: datetime.date, count: int) -> Steps:
        """Swap the day in, read its week's and month's days (one hash), write both sums and move the counter."""
        monday = day - datetime.timedelta(days=day.weekday())
        week, month = _days(monday, 7), _month_days(day)
        month_key = self.hash_key(uid, _ym(day))
        fields = ["%s:%s" % (metric, _ymd(d)) for d in week + month]
        replies = yield True, [("EVAL", SWAP_FIELD, 1, month_key, "%s:%s" % (metric, _ymd(day)), count),
                               ("HMGET", month_key, *fields)]
        old, values = replies
        counts = [_number(value) for value in values]
        year_key = self.hash_key(uid, _yy(day))
        yield True, [("HSET", year_key, "%s:%s" % (metric, _ymd(monday)), sum(counts[:7])),
                     ("HSET", year_key, "%s:%s" % (metric, _ym(day)), sum(counts[7:])),
                     ("INCRBY", self.counter_key(uid, metric), count - _number(old))]
        return [[0 if old is not None else 1]]

    def sync(self, uid: str, metric: str, start: datetime.date, end: datetime.date, weeks: bool,
             months: bool) -> Steps:
        """Recompute whole weeks and the month of one month's range from its days (one hash read, in MULTI)."""
        mondays = [start + datetime.timedelta(weeks=i) for i in range(((end - start).days + 1) // 7)] if weeks else []
        buckets = [("%s:%s" % (metric, _ymd(monday)), _days(monday, 7)) for monday in mondays]
        if months:
            buckets.append(("%s:%s" % (metric, _ym(start)), _month_days(start)))
        fields = ["%s:%s" % (metric, _ymd(d)) for _, days in buckets for d in days]
        replies = yield True, [("HMGET", self.hash_key(uid, _ym(start)), *fields)]
        counts = iter(_number(value) for value in replies[0])
        year_key = self.hash_key(uid, _yy(start))
        yield True, [("HSET", year_key, field, sum(next(counts) for _ in days)) for field, days in buckets]
        return None


def _key(command: Tuple[Any, ...]) -> str:
    return command[3] if command[0] == "EVAL" else command[1]


def _queue(plain: Any, transaction: bool, commands: List[Tuple[Any, ...]]) -> Tuple[Dict[int, Any], List[int]]:
    """One step's commands queued on one pipeline per host; the host of each command, in order."""
    pipes: Dict[int, Any] = {}
    order = []
    for command in commands:
        index = plain.route(_key(command))
        plain._pipe(pipes, _key(command), transaction and plain.transactions, index).execute_command(*command)
        order.append(index)
    return pipes, order


def _in_order(replies: Dict[int, List[Any]], order: List[int]) -> List[Any]:
    """Each host's replies put back in command order."""
    by_host = {index: iter(values) for index, values in replies.items()}
    return [next(by_host[index]) for index in order]


def run_sync(plain: Any, steps: Steps) -> Any:
    """Send a baseline's pipelines with ``plain``'s sync clients (a :class:`benchmarks.plain.Plain`)."""
    try:
        step = next(steps)
        while True:
            pipes, order = _queue(plain, *step)
            step = steps.send(_in_order({index: pipe.execute() for index, pipe in pipes.items()}, order))
    except StopIteration as done:
        return done.value


async def run_async(plain: Any, steps: Steps) -> Any:
    """:func:`run_sync` with ``plain``'s ``redis.asyncio`` clients."""
    try:
        step = next(steps)
        while True:
            pipes, order = _queue(plain, *step)
            step = steps.send(_in_order({index: await pipe.execute() for index, pipe in pipes.items()}, order))
    except StopIteration as done:
        return done.value


#: ``(row name, the library's call on a backend, the baseline's steps, whether it reads)``.
Scenario = Tuple[str, Callable[[Any], Any], Callable[[Baselines], Steps], bool]


def scenarios() -> Sequence[Scenario]:
    """Every small call the table has no other row for."""
    return [
        ("track_count", lambda b: b.track_count(WRITE_UID, WRITE_METRIC, 1),
         lambda p: p.track_count(WRITE_UID, WRITE_METRIC, 1), False),
        ("set_metric_by_day", lambda b: b.set_metric_by_day(WRITE_UID, WRITE_METRIC, SET_DAY, 5),
         lambda p: p.set_metric_by_day(WRITE_UID, WRITE_METRIC, SET_DAY, 5), False),
        ("sync_agg_metric, 4 weeks", lambda b: b.sync_agg_metric(UID, METRIC, SYNC_FROM, SYNC_TO),
         lambda p: p.sync(UID, METRIC, SYNC_FROM, SYNC_TO, True, True), False),
        ("sync_week_metric, 4 weeks", lambda b: b.sync_week_metric(UID, METRIC, SYNC_FROM, SYNC_TO),
         lambda p: p.sync(UID, METRIC, SYNC_FROM, SYNC_TO, True, False), False),
        ("sync_month_metric, 1 month", lambda b: b.sync_month_metric(UID, METRIC, SYNC_FROM, SYNC_TO),
         lambda p: p.sync(UID, METRIC, SYNC_FROM, SYNC_TO, False, True), False),
        ("get_metric_by_week, 10 weeks", lambda b: b.get_metric_by_week(UID, METRIC, WEEKS_FROM, 10),
         lambda p: p.by_week(UID, METRIC, WEEKS_FROM, 10), True),
        ("get_metric_by_month, 12 months", lambda b: b.get_metric_by_month(UID, METRIC, MONTHS_FROM, 12),
         lambda p: p.by_month(UID, METRIC, MONTHS_FROM, 12), True),
        ("get_metrics, 1 pair x 30 days", lambda b: b.get_metrics([(UID, METRIC)], DAYS_FROM, 30, group_by="day"),
         lambda p: _listed(p.by_day(UID, METRIC, DAYS_FROM, 30)), True),
        ("get_count, all time", lambda b: b.get_count(UID, METRIC), lambda p: p.get_count(UID, METRIC), True),
        ("get_counts, 1 pair", lambda b: b.get_counts([(UID, METRIC)]), lambda p: p.get_counts_one(UID, METRIC), True),
    ]


def _listed(steps: Steps) -> Steps:
    return [(yield from steps)]


def load(plain: Any) -> None:
    """The reads' data: a count on every day of 2025 and 2026 for ``UID``/``METRIC``."""
    first = datetime.date(2025, 1, 1)
    plain.bulk([(UID, METRIC, first + datetime.timedelta(days=i), 1) for i in range(730)], 1000)


def sync_rows(topology: Any, args: Any, helpers: Any) -> List[Any]:
    """The sync rows (``helpers`` is benchmarks.run, for its Row, compare and timing)."""
    backend, plain, counter, rows = topology.backend, topology.plain, topology.counter, []
    baselines = Baselines()
    load(plain)
    for name, call, steps, reads in scenarios():
        if reads:
            assert call(backend) == run_sync(plain, steps(baselines)), name
        row = helpers.Row(topology.name, name, "calls")
        row.lib_counts = counter.measure(lambda: [call(backend) for _ in range(10)], 10)
        row.plain_counts = counter.measure(lambda: [run_sync(plain, steps(baselines)) for _ in range(10)], 10)
        sides = {"lib": helpers.for_seconds(args.seconds, lambda i: call(backend))}
        if topology.then is not None:
            sides["then"] = helpers.for_seconds(args.seconds, lambda i: call(topology.then))
        rows.append(helpers.compare(row, args.rounds, plain=helpers.for_seconds(
            args.seconds, lambda i: run_sync(plain, steps(baselines))), **sides))
    return rows


def async_rows(topology: Any, args: Any, helpers: Any, loop: Any, backend: Any, plain: Any) -> List[Any]:
    """The asyncio rows: one task calling, on ``loop``; ``plain`` has ``redis.asyncio`` clients."""
    from benchmarks.aio import async_rate

    counter, rows, run = topology.counter, [], loop.run_until_complete
    baselines = Baselines()
    load(topology.plain)
    for name, call, steps, reads in scenarios():
        if reads:
            assert run(call(backend)) == run(run_async(plain, steps(baselines))), name
        row = helpers.Row(topology.name, "async " + name, "calls")

        async def ten_lib() -> None:
            for _ in range(10):
                await call(backend)

        async def ten_plain() -> None:
            for _ in range(10):
                await run_async(plain, steps(baselines))

        row.lib_counts = counter.measure(lambda: run(ten_lib()), 10)
        row.plain_counts = counter.measure(lambda: run(ten_plain()), 10)
        rows.append(helpers.compare(
            row, args.rounds,
            async_rate(loop, args.seconds, lambda i: call(backend)),
            async_rate(loop, args.seconds, lambda i: run_async(plain, steps(baselines))),
        ))
    return rows
