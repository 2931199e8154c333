"""Throughput of the opt-in kinds (hours, unique counts) and the cost of retention.

    python3 -m benchmarks.options --quick      # about a minute on 2 cores
    python3 -m benchmarks.options              # 1,000,000 bulk events, 5 rounds

Same house style as :mod:`benchmarks.run` (whose helpers it uses): each scenario
runs the library and hand-written redis-py code sending the same commands
(:class:`PlainOptions`), alternately, round after round, and the table gives
the medians and their ratio.  The retention rows compare the library with
itself: the same workload on a backend with ``retention`` (each write followed
by its ``EXPIREAT ... NX``) and on one without; the "redis-py" column is then
the backend without retention.
"""
import argparse
import datetime
import itertools
import random
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import redis

from benchmarks.run import FIRST_DAY, Row, Topology, compare, for_seconds, host_topology, machine, table
from benchmarks.plain import Plain

from analytics.backends.redis import Redis

KEEP = datetime.timedelta(days=3650)
RETENTION = {"hour": KEEP, "day": KEEP, "week": KEEP, "month": KEEP, "unique": KEEP}


class PlainOptions(Plain):
    """Hand-written redis-py for hours and unique counts: the library's keys, by string formatting."""

    def track_with_hour(self, uid: str, metric: str, when: datetime.datetime, amount: int = 1) -> List:
        """``track_metric`` on a backend with ``hours=True`` and no time zone: the 4 increments and the hour's."""
        pipes: Dict = {}
        day = when.date()
        self.queue_event(pipes, uid, metric, day, amount, self.transactions)
        key = "%s:hour:%s:%s" % (self.prefix, uid, day.isoformat())
        self._pipe(pipes, key, self.transactions).hincrby(key, "%s:%02d:00+00:00" % (metric, when.hour), amount)
        return self._run(pipes)

    def _unique_keys(self, uid: str, metric: str, day: datetime.date) -> Tuple[str, List[str]]:
        anchor = "%s:uniq:{%d:%s:%s}" % (self.prefix, len(uid), uid, metric)
        monday = day - datetime.timedelta(days=day.weekday())
        return anchor, ["%s:d:%s" % (anchor, day.isoformat()), "%s:w:%s" % (anchor, monday.isoformat()),
                        "%s:m:%04d-%02d" % (anchor, day.year, day.month)]

    def track_unique(self, uid: str, metric: str, members: Sequence[str], day: datetime.date) -> List:
        """Every member into the day's, week's and month's HyperLogLog, in one MULTI/EXEC on the pair's host."""
        anchor, keys = self._unique_keys(uid, metric, day)
        pipe = self.clients[self.route(anchor)].pipeline(transaction=self.transactions)
        for key in keys:
            pipe.pfadd(key, *members)
        return pipe.execute()

    def track_uniques(self, events: Iterable[Tuple], chunk_size: int) -> int:
        """Three PFADDs per event, ``chunk_size`` events per pipeline per host, no merging."""
        pipes: Dict[int, Any] = {}
        done = 0
        for uid, metric, member, day in events:
            anchor, keys = self._unique_keys(uid, metric, day)
            index = self.route(anchor)
            pipe = pipes.get(index)
            if pipe is None:
                pipe = pipes[index] = self.clients[index].pipeline(transaction=False)
            for key in keys:
                pipe.pfadd(key, member)
            done += 1
            if done % chunk_size == 0:
                self._run(pipes)
                pipes = {}
        if pipes:
            self._run(pipes)
        return done

    def unique_count(self, uid: str, metric: str, start: datetime.date, end: datetime.date) -> int:
        """``get_unique_count``: whole months and the other days, in one PFCOUNT on the pair's host."""
        anchor = "%s:uniq:{%d:%s:%s}" % (self.prefix, len(uid), uid, metric)
        months, days = [], []
        day = start
        while day <= end:
            first = day.replace(day=1)
            following = (first + datetime.timedelta(days=32)).replace(day=1)
            if day == first and following - datetime.timedelta(days=1) <= end:
                months.append("%s:m:%04d-%02d" % (anchor, first.year, first.month))
                day = following
            else:
                days.append("%s:d:%s" % (anchor, day.isoformat()))
                day += datetime.timedelta(days=1)
        return self.clients[self.route(anchor)].pfcount(*(months + days))


def unique_pool(size: int, seed: int = 7) -> List[Tuple[str, str, str, datetime.date]]:
    rng = random.Random(seed)
    return [("page%d" % rng.randrange(100), "visitors", "user%d" % rng.randrange(100000),
             FIRST_DAY + datetime.timedelta(days=rng.randrange(60))) for _ in range(size)]


def run(topology: Topology, args: argparse.Namespace) -> List[Row]:
    name, counter = topology.name, topology.counter
    plain = PlainOptions(topology.plain.clients, topology.plain.route)
    # A shared machine can stall a server for seconds: a bulk chunk must not time out then.
    settings = {"hosts": [dict(host, timeout=60) for host in topology.settings["hosts"]]}
    hourly = Redis(settings, hours=True, retention={"hour": None})
    kept = Redis(settings, hours=True, retention=RETENTION)
    plain_backend = Redis(settings)
    rows: List[Row] = []
    rng = random.Random(3)
    moments = [datetime.datetime(2026, 1, 1) + datetime.timedelta(minutes=rng.randrange(60 * 24 * 60))
               for _ in range(1000)]
    uids = ["user%d" % rng.randrange(10000) for _ in range(1000)]
    print("%s:" % name, flush=True)

    topology.flush()
    row = Row(name, "track_metric, hours on", "events")
    row.lib_counts = counter.measure(lambda: [hourly.track_metric(uids[i], "m", moments[i]) for i in range(100)], 100)
    row.plain_counts = counter.measure(lambda: [plain.track_with_hour(uids[i], "m", moments[i]) for i in range(100)],
                                       100)
    rows.append(compare(row, args.rounds,
                        for_seconds(args.seconds, lambda i: hourly.track_metric(uids[i % 1000], "m", moments[i % 1000])),
                        for_seconds(args.seconds, lambda i: plain.track_with_hour(uids[i % 1000], "m", moments[i % 1000]))))

    members = ["user%d" % i for i in range(100)]
    for size in (1, 100):
        topology.flush()
        row = Row(name, "track_unique, %d member%s/call" % (size, "" if size == 1 else "s"), "calls")
        chosen = members[:size]
        row.lib_counts = counter.measure(
            lambda: [plain_backend.track_unique(uids[i], "v", chosen, moments[i].date()) for i in range(100)], 100)
        row.plain_counts = counter.measure(
            lambda: [plain.track_unique(uids[i], "v", chosen, moments[i].date()) for i in range(100)], 100)
        rows.append(compare(
            row, args.rounds,
            for_seconds(args.seconds, lambda i: plain_backend.track_unique(uids[i % 1000], "v", chosen,
                                                                           moments[i % 1000].date())),
            for_seconds(args.seconds, lambda i: plain.track_unique(uids[i % 1000], "v", chosen,
                                                                   moments[i % 1000].date()))))

    pool = unique_pool(min(args.events, 100000))
    chunk = args.chunk_size
    row = Row(name, "track_uniques, %d events" % args.events, "events", per="chunk of %d events" % chunk)
    topology.flush()

    def stream(count: int) -> Iterable[Tuple]:
        return itertools.islice(itertools.cycle(pool), count)

    row.lib_counts = counter.measure(lambda: plain_backend.track_uniques(stream(4 * chunk), chunk_size=chunk), 4)
    row.plain_counts = counter.measure(lambda: plain.track_uniques(stream(4 * chunk), chunk), 4)

    def bulk_lib() -> int:
        return plain_backend.track_uniques(stream(args.events), chunk_size=chunk)

    rows.append(compare(row, args.rounds, bulk_lib, lambda: plain.track_uniques(stream(args.events), chunk),
                        between=topology.flush))

    # One page's visitors over a year: 365 days of a few hundred members each.
    topology.flush()
    year = [FIRST_DAY + datetime.timedelta(days=d) for d in range(365)]
    plain_backend.track_uniques(("home", "visitors", "user%d" % rng.randrange(20000), day)
                                for day in year for _ in range(300))
    first, last = datetime.date(2026, 1, 10), datetime.date(2026, 12, 20)
    assert plain_backend.get_unique_count("home", "visitors", first, last) == plain.unique_count(
        "home", "visitors", first, last)
    row = Row(name, "get_unique_count, 1 year", "calls")
    row.lib_counts = counter.measure(lambda: plain_backend.get_unique_count("home", "visitors", first, last), 1)
    row.plain_counts = counter.measure(lambda: plain.unique_count("home", "visitors", first, last), 1)
    rows.append(compare(row, args.rounds,
                        for_seconds(args.seconds, lambda i: plain_backend.get_unique_count("home", "visitors",
                                                                                           first, last)),
                        for_seconds(args.seconds, lambda i: plain.unique_count("home", "visitors", first, last))))

    # Retention: the same calls with and without it (ratio: with / without).
    topology.flush()
    row = Row(name, "retention cost: track_metric", "events")
    row.lib_counts = counter.measure(lambda: [kept.track_metric(uids[i], "m", moments[i]) for i in range(100)], 100)
    row.plain_counts = counter.measure(lambda: [hourly.track_metric(uids[i], "m", moments[i]) for i in range(100)],
                                       100)
    rows.append(compare(row, args.rounds,
                        for_seconds(args.seconds, lambda i: kept.track_metric(uids[i % 1000], "m", moments[i % 1000])),
                        for_seconds(args.seconds, lambda i: hourly.track_metric(uids[i % 1000], "m",
                                                                                moments[i % 1000]))))
    events = [(uid, "metric%d" % (i % 10), moment, 1) for i, (uid, moment) in enumerate(zip(uids * 100, moments * 100))]
    row = Row(name, "retention cost: track_metrics, %d" % len(events), "events", per="chunk of %d events" % chunk)
    row.lib_counts = counter.measure(lambda: kept.track_metrics(iter(events[:4 * chunk]), chunk_size=chunk), 4)
    row.plain_counts = counter.measure(lambda: hourly.track_metrics(iter(events[:4 * chunk]), chunk_size=chunk), 4)
    rows.append(compare(row, args.rounds, lambda: kept.track_metrics(iter(events), chunk_size=chunk),
                        lambda: hourly.track_metrics(iter(events), chunk_size=chunk), between=topology.flush))
    for backend in (hourly, kept, plain_backend):
        backend.close()
    return rows


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100,000 bulk events, 3 rounds of 0.5 s")
    parser.add_argument("--events", type=int, help="events in the bulk scenario (default 1,000,000)")
    parser.add_argument("--rounds", type=int, help="rounds per side (default 5; 3 with --quick)")
    parser.add_argument("--seconds", type=float, help="length of one timed round of the per-call scenarios")
    parser.add_argument("--chunk-size", type=int, default=10000, help="events per chunk in the bulk scenarios")
    parser.add_argument("--hosts", default="1,3", help="comma-separated host counts to run (default 1,3)")
    args = parser.parse_args(argv)
    args.events = args.events or (100000 if args.quick else 1000000)
    args.rounds = args.rounds or (3 if args.quick else 5)
    args.seconds = args.seconds or (0.5 if args.quick else 2.0)
    for line in machine():
        print(line)
    rows: List[Row] = []
    for count in [int(part) for part in args.hosts.split(",") if part.strip()]:
        topology = host_topology(count)
        try:
            if not rows:
                print("Redis %s" % topology.admin[0].info("server")["redis_version"])
            rows += run(topology, args)
        finally:
            topology.close()
    print()
    print(table(rows, args.chunk_size))


if __name__ == "__main__":
    main()
