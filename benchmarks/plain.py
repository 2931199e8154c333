"""What an application would write by hand with redis-py to do what each benchmarked call does.

These are the baselines: the same keys, fields and commands as the library
(checked by the benchmark, which counts the commands on the server), built with
plain string formatting and sent with ``redis.Redis.pipeline()``, one pipeline
per host, executed one host after the other as ordinary redis-py code does.
"""
import datetime
from typing import Callable, Dict, Iterable, List, Sequence, Tuple

import redis

ONE_DAY = datetime.timedelta(days=1)


class Plain:
    """Hand-written counters over ``clients``; ``route(key)`` is the index of a key's client."""

    def __init__(self, clients: Sequence[redis.Redis], route: Callable[[str], int], prefix: str = "_analytics",
                 transactions: bool = True):
        self.clients = list(clients)
        self.route = route if len(self.clients) > 1 else (lambda key: 0)
        self.prefix = prefix
        #: A Redis Cluster pipeline cannot be a transaction across slots (nor is the library's).
        self.transactions = transactions

    def _pipe(self, pipes: Dict[int, "redis.client.Pipeline"], key: str, transaction: bool, index: int = -1):
        if index < 0:
            index = self.route(key)
        pipe = pipes.get(index)
        if pipe is None:
            pipe = pipes[index] = self.clients[index].pipeline(transaction=transaction)
        return pipe

    @staticmethod
    def _run(pipes: Dict[int, "redis.client.Pipeline"]) -> List:
        replies: List = []
        for pipe in pipes.values():
            replies.extend(pipe.execute())
        return replies

    def queue_event(self, pipes, uid: str, metric: str, day: datetime.date, amount: int, transaction: bool) -> None:
        prefix, yy = self.prefix, day.year % 100
        monday = day - datetime.timedelta(days=day.weekday())
        month_key = "%s:user:%s:analy:%02d-%02d" % (prefix, uid, yy, day.month)
        year_key = "%s:user:%s:analy:%02d" % (prefix, uid, yy)
        counter_key = "%s:analy:%s:count:%s" % (prefix, uid, metric)
        self._pipe(pipes, month_key, transaction).hincrby(
            month_key, "%s:%02d-%02d-%02d" % (metric, yy, day.month, day.day), amount)
        year_pipe = self._pipe(pipes, year_key, transaction)
        year_pipe.hincrby(year_key, "%s:%02d-%02d-%02d" % (metric, monday.year % 100, monday.month, monday.day), amount)
        year_pipe.hincrby(year_key, "%s:%02d-%02d" % (metric, yy, day.month), amount)
        self._pipe(pipes, counter_key, transaction).incrby(counter_key, amount)

    def track(self, uid: str, metric: str, day: datetime.date, amount: int = 1) -> List:
        """One event: its four increments in one MULTI/EXEC pipeline per host (as ``track_metric``)."""
        pipes: Dict = {}
        self.queue_event(pipes, uid, metric, day, amount, self.transactions)
        return self._run(pipes)

    def bulk(self, events: Iterable[Tuple], chunk_size: int) -> int:
        """Every event's four increments, ``chunk_size`` events per pipeline per host, no merging."""
        pipes: Dict = {}
        queued = 0
        for uid, metric, day, amount in events:
            self.queue_event(pipes, uid, metric, day, amount, False)
            queued += 1
            if queued % chunk_size == 0:
                self._run(pipes)
                pipes = {}
        if pipes:
            self._run(pipes)
        return queued

    def series_by_day(self, pairs: Sequence[Tuple[str, str]], start: datetime.date, limit: int) -> List:
        """``get_metrics(pairs, start, limit, group_by="day")``: one HMGET per pair and month."""
        pipes, collect = self.queue_series_by_day(pairs, start, limit)
        return collect({index: pipe.execute() for index, pipe in pipes.items()})

    def queue_series_by_day(self, pairs: Sequence[Tuple[str, str]], start: datetime.date, limit: int
                            ) -> Tuple[Dict, Callable[[Dict[int, List]], List]]:
        """The pipelines of :meth:`series_by_day`, and how to turn their replies into its result."""
        prefix = self.prefix
        days = [start + datetime.timedelta(days=i) for i in range(limit)]
        labels = [day.isoformat() for day in days]
        by_month: Dict[Tuple[int, int], List[int]] = {}
        for position, day in enumerate(days):
            by_month.setdefault((day.year, day.month), []).append(position)
        pipes: Dict = {}
        plan = []
        for uid, metric in pairs:
            for (year, month), positions in by_month.items():
                key = "%s:user:%s:analy:%02d-%02d" % (prefix, uid, year % 100, month)
                fields = ["%s:%02d-%02d-%02d" % (metric, year % 100, month, days[p].day) for p in positions]
                index = self.route(key)
                self._pipe(pipes, key, False, index).hmget(key, fields)
                plan.append((index, positions))

        def collect(replies: Dict[int, List]) -> List:
            replies_by_host = {index: iter(values) for index, values in replies.items()}
            result = []
            plan_iter = iter(plan)
            for _ in pairs:
                counts = [0] * limit
                for _ in by_month:
                    index, positions = next(plan_iter)
                    for position, value in zip(positions, next(replies_by_host[index])):
                        if value is not None:
                            counts[position] = int(value)
                result.append((set(labels), dict(zip(labels, counts))))
            return result

        return pipes, collect

    def count_between(self, uid: str, metric: str, start: datetime.date, end: datetime.date) -> int:
        """``get_count(uid, metric, start, end)``: whole months from the year hashes, other days one by one."""
        prefix = self.prefix
        firsts = []
        first = datetime.date(start.year, start.month, 1)
        while first <= end:
            if first >= start:
                firsts.append(first)
            first = (first + datetime.timedelta(days=32)).replace(day=1)
        if len(firsts) >= 3:
            whole, lone_days = firsts[:-1], _days(start, firsts[0] - ONE_DAY) + _days(firsts[-1], end)
        else:
            whole, lone_days = [], _days(start, end)
        wanted: Dict[str, List[str]] = {}
        for first in whole:
            wanted.setdefault("%s:user:%s:analy:%02d" % (prefix, uid, first.year % 100), []).append(
                "%s:%02d-%02d" % (metric, first.year % 100, first.month))
        for day in lone_days:
            wanted.setdefault("%s:user:%s:analy:%02d-%02d" % (prefix, uid, day.year % 100, day.month), []).append(
                "%s:%02d-%02d-%02d" % (metric, day.year % 100, day.month, day.day))
        pipes: Dict = {}
        for key, fields in wanted.items():
            self._pipe(pipes, key, False).hmget(key, fields)
        return sum(int(value) for reply in self._run(pipes) for value in reply if value is not None)

    def counts(self, pairs: Sequence[Tuple[str, str]]) -> List[int]:
        """``get_counts(pairs)``: one GET per all-time counter."""
        prefix = self.prefix
        pipes: Dict = {}
        order = []
        for uid, metric in pairs:
            key = "%s:analy:%s:count:%s" % (prefix, uid, metric)
            index = self.route(key)
            self._pipe(pipes, key, False, index).get(key)
            order.append(index)
        replies_by_host = {index: iter(pipe.execute()) for index, pipe in pipes.items()}
        return [int(value) if value is not None else 0 for value in (next(replies_by_host[i]) for i in order)]


def _days(first: datetime.date, last: datetime.date) -> List[datetime.date]:
    return [first + datetime.timedelta(days=i) for i in range((last - first).days + 1)]
