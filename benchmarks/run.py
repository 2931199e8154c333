"""Throughput of ``analytics`` next to hand-written redis-py code sending the same commands.

    python3 -m benchmarks.run --quick          # a few minutes on 2 cores
    python3 -m benchmarks.run                  # bulk scenario with 1,000,000 events
    python3 -m benchmarks.run --plots DIR      # then the cost curves (benchmarks/curves.py) as PNGs in DIR

Starts its own redis-server processes on free loopback ports (one for 1 host,
three for 3 hosts), runs every scenario with the library and with plain redis-py
(:mod:`benchmarks.plain`) alternately for several rounds, and prints the medians,
their ratio, and the round trips and commands per call.  Round trips are socket
writes counted inside redis-py; commands are counted by the servers
(``INFO commandstats``), in a separate pass so that counting costs no time in
the timed rounds.  The ceiling is ``redis-benchmark -P 64`` against the same
server.
"""
import argparse
import contextlib
import datetime
import itertools
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import redis
import redis.asyncio.connection
import redis.connection

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from analytics.backends.redis import Redis  # noqa: E402
from analytics.ring import HashRing  # noqa: E402
from analytics.stores import redispy  # noqa: E402
from benchmarks.plain import Plain  # noqa: E402
from servers import RedisServer  # noqa: E402

FIRST_DAY = datetime.date(2026, 1, 1)


# -- workloads -----------------------------------------------------------------

def event_pool(size: int, uids: int = 10000, metrics: int = 10, days: int = 60, seed: int = 5) -> List[Tuple]:
    """``size`` events spread so that few of them hit the same counter within a chunk."""
    rng = random.Random(seed)
    uid_names = ["user%d" % i for i in range(uids)]
    metric_names = ["metric%d" % i for i in range(metrics)]
    dates = [FIRST_DAY + datetime.timedelta(days=i) for i in range(days)]
    return [(rng.choice(uid_names), rng.choice(metric_names), rng.choice(dates), 1) for _ in range(size)]


def stream(pool: Sequence[Tuple], count: int) -> Iterator[Tuple]:
    """``count`` events, cycling over ``pool``: a generator, as a real bulk load would be."""
    return itertools.islice(itertools.cycle(pool), count)


# -- counting ------------------------------------------------------------------

class Counter:
    """Counts pipelines written to sockets (inside redis-py) and commands run (on the servers)."""

    def __init__(self, clients: Sequence[redis.Redis]):
        self.clients = clients
        self.writes = 0

    def commands(self) -> int:
        total = 0
        for client in self.clients:
            for name, stats in client.info("commandstats").items():
                if name != "cmdstat_info":
                    total += stats["calls"]
        return total

    @contextlib.contextmanager
    def counting_writes(self) -> Iterator[None]:
        # Both worlds' connections (the asyncio one returns its coroutine, awaited by
        # the caller), and the library's asyncio driver, which writes to the stream itself.
        places = [(redis.connection.AbstractConnection, "send_packed_command"),
                  (redis.asyncio.connection.AbstractConnection, "send_packed_command"),
                  (redispy, "async_send")]
        originals = [getattr(owner, name) for owner, name in places]
        counter = self

        def counting(original: Callable[..., Any]) -> Callable[..., Any]:
            def counted(*args: Any, **kwargs: Any) -> Any:
                counter.writes += 1
                return original(*args, **kwargs)

            return counted

        for (owner, name), original in zip(places, originals):
            setattr(owner, name, counting(original))
        try:
            yield
        finally:
            for (owner, name), original in zip(places, originals):
                setattr(owner, name, original)

    def measure(self, action: Callable[[], Any], calls: int) -> Tuple[float, float]:
        """``(round trips, commands)`` per call of ``action`` (which makes ``calls`` calls).

        ``action`` runs once before, uncounted, so that connecting (HELLO,
        SELECT...) is not counted.
        """
        action()
        before_commands, before_writes = self.commands(), self.writes
        with self.counting_writes():
            action()
        return (self.writes - before_writes) / calls, (self.commands() - before_commands) / calls


# -- timing --------------------------------------------------------------------

def timed_rate(action: Callable[[], int]) -> float:
    """Units per second of ``action``, which returns how many units it did."""
    start = time.perf_counter()
    units = action()
    return units / (time.perf_counter() - start)


def for_seconds(seconds: float, call: Callable[[int], Any], per_call: int = 1) -> Callable[[], int]:
    """An action calling ``call(i)`` until ``seconds`` have passed; it returns the units done."""

    def action() -> int:
        deadline = time.perf_counter() + seconds
        done = 0
        while True:
            for _ in range(20):
                call(done)
                done += 1
            if time.perf_counter() >= deadline:
                return done * per_call

    return action


class Row:
    """One scenario on one topology: every round's rate on each side, and the counts per call."""

    def __init__(self, hosts: str, name: str, unit: str, per: str = "call"):
        self.hosts, self.name, self.unit, self.per = hosts, name, unit, per
        self.lib: List[float] = []
        self.plain: List[float] = []
        self.then: List[float] = []
        self.lib_counts = self.plain_counts = (0.0, 0.0)
        self.ceilings: List[Dict[str, float]] = []

    def ceiling(self, name: str) -> float:
        return statistics.median(rates[name] for rates in self.ceilings)

    @property
    def ratio(self) -> float:
        return statistics.median(self.lib) / statistics.median(self.plain)

    @property
    def vs_then(self) -> str:
        """Today's rate over the earlier revision's (``--then``), or empty."""
        return "%.2f" % (statistics.median(self.lib) / statistics.median(self.then)) if self.then else ""


def compare(row: Row, rounds: int, lib: Callable[[], int], plain: Callable[[], int],
            between: Optional[Callable[[], None]] = None, extra: Optional[Callable[[], None]] = None,
            then: Optional[Callable[[], int]] = None) -> Row:
    """Alternate the sides (the order reverses every round) and keep every rate.

    ``then`` is the same scenario on an earlier revision (``--then``).
    ``extra`` runs once per round too (the redis-benchmark ceiling), so that
    every side sees the same load on a shared machine.
    """
    for index in range(rounds):
        sides = [(row.lib, lib), (row.plain, plain)] + ([(row.then, then)] if then is not None else [])
        for rates, action in (sides if index % 2 == 0 else sides[::-1]):
            if between is not None:
                between()
            rates.append(timed_rate(action))
        if extra is not None:
            extra()
    print("  %-28s analytics %10.0f  redis-py %10.0f  %s/s  ratio %.2f%s" % (
        row.name, statistics.median(row.lib), statistics.median(row.plain), row.unit, row.ratio,
        "  vs then %s" % row.vs_then if row.then else ""), flush=True)
    return row


# -- topologies ----------------------------------------------------------------

class Topology:
    """Servers, the library backend and the plain redis-py baseline over the same hosts."""

    def __init__(self, name: str, settings: Dict[str, Any], admin: List[redis.Redis], plain: Plain,
                 flush: Callable[[], None], stop: Callable[[], None], ceiling_port: Optional[int]):
        self.name, self.settings, self.admin, self.plain = name, settings, admin, plain
        self.backend = Redis(settings)
        self.then: Optional[Any] = None
        self.counter = Counter(admin)
        self.flush, self._stop, self.ceiling_port = flush, stop, ceiling_port

    def close(self) -> None:
        self.backend.store.close()
        if self.then is not None:
            self.then.store.close()
        for client in self.admin + self.plain.clients:
            client.close()
        self._stop()


def host_topology(count: int) -> Topology:
    """``count`` redis-server processes as a 0.6.x host list."""
    servers: List[RedisServer] = []
    try:
        for _ in range(count):
            servers.append(RedisServer().start())
        admin = [server.client() for server in servers]
        ring = HashRing(["redis://127.0.0.1:%d/0" % server.port for server in servers])

        def flush() -> None:
            for client in admin:
                client.flushall()

        def stop() -> None:
            for server in servers:
                server.cleanup()

        return Topology(
            "%d host%s" % (count, "" if count == 1 else "s"),
            {"hosts": [{"host": "127.0.0.1", "port": server.port, "db": 0} for server in servers]},
            admin, Plain([server.client() for server in servers], ring.node_for), flush, stop, servers[0].port,
        )
    except BaseException:
        for server in servers:
            server.cleanup()
        raise


def cluster_topology(primaries: int = 3) -> Topology:
    """A Redis Cluster of ``primaries`` primaries (tests/cluster_servers.py); the baseline: redis-py's RedisCluster."""
    from redis.cluster import RedisCluster

    from cluster_servers import LocalCluster

    cluster = LocalCluster(primaries=primaries).start()
    try:
        admin = [cluster.node_client(port) for port in cluster.primary_ports()]
        plain = Plain([RedisCluster(host="127.0.0.1", port=cluster.ports[0], decode_responses=True)],
                      lambda key: 0, transactions=False)
        return Topology("cluster", {"cluster": cluster.url(0)}, admin, plain, cluster.flushall, cluster.cleanup, None)
    except BaseException:
        cluster.cleanup()
        raise


def run_topology(topology: Topology, args: argparse.Namespace) -> List[Row]:
    rows = []
    backend, plain, counter, hosts = topology.backend, topology.plain, topology.counter, topology.name
    print("%s:" % hosts, flush=True)

    def sides(scenario: Callable[[Any], Callable[[], int]]) -> Dict[str, Callable[[], int]]:
        """The library's side of ``scenario`` (a function of a backend), and the earlier revision's."""
        found = {"lib": scenario(backend)}
        if topology.then is not None:
            found["then"] = scenario(topology.then)
        return found

    # (a) one event per call
    pool = event_pool(min(args.events, 100000))
    topology.flush()
    row = Row(hosts, "track_metric, 1 event/call", "events")
    row.lib_counts = counter.measure(lambda: [backend.track_metric(*pool[i]) for i in range(100)], 100)
    row.plain_counts = counter.measure(lambda: [plain.track(*pool[i]) for i in range(100)], 100)
    rows.append(compare(
        row, args.rounds,
        plain=for_seconds(args.seconds, lambda i: plain.track(*pool[i % len(pool)])),
        **sides(lambda b: for_seconds(args.seconds, lambda i: b.track_metric(*pool[i % len(pool)]))),
    ))

    # (b) bulk ingestion
    chunk = args.chunk_size
    row = Row(hosts, "bulk, %d events" % args.events, "events", per="chunk of %d events" % chunk)
    topology.flush()
    row.lib_counts = counter.measure(lambda: backend.track_metrics(stream(pool, 4 * chunk), chunk_size=chunk), 4)
    row.plain_counts = counter.measure(lambda: plain.bulk(stream(pool, 4 * chunk), chunk), 4)

    def bulk_of(b: Any) -> Callable[[], int]:
        def bulk() -> int:
            b.track_metrics(stream(pool, args.events), chunk_size=chunk)
            return args.events
        return bulk

    extra = None
    if topology.ceiling_port is not None and not args.no_ceiling:
        requests = 200000 if args.quick else 1000000

        def extra() -> None:
            topology.flush()
            row.ceilings.append(ceiling(topology.ceiling_port, requests))

    rows.append(compare(row, args.rounds, plain=lambda: plain.bulk(stream(pool, args.events), chunk),
                        between=topology.flush, extra=extra, **sides(bulk_of)))
    if row.ceilings:
        print("  redis-benchmark -P 64 (medians): %s" % ", ".join(
            "%s %.0f/s" % (name, row.ceiling(name)) for name in ("hincrby", "incrby", "mix")), flush=True)

    # reads, over data loaded once
    topology.flush()
    read_pairs = [("user%d" % i, "metric%d" % (i % 10)) for i in range(1000)]
    start = datetime.date(2025, 1, 1)
    two_years = [start + datetime.timedelta(days=i) for i in range(731)]
    events = [(uid, metric, FIRST_DAY + datetime.timedelta(days=d), 1) for uid, metric in read_pairs[:100]
              for d in range(30)]
    events += [("user0", "metric0", day, 1) for day in two_years]
    events += [(uid, metric, FIRST_DAY, 1) for uid, metric in read_pairs]
    plain.bulk(events, 1000)

    # (c) 100 series of 30 days
    pairs = read_pairs[:100]
    row = Row(hosts, "get_metrics, 100 x 30 days", "calls")
    expected = plain.series_by_day(pairs, FIRST_DAY, 30)
    assert backend.get_metrics(pairs, FIRST_DAY, 30, group_by="day") == expected
    row.lib_counts = counter.measure(lambda: backend.get_metrics(pairs, FIRST_DAY, 30, group_by="day"), 1)
    row.plain_counts = counter.measure(lambda: plain.series_by_day(pairs, FIRST_DAY, 30), 1)
    rows.append(compare(
        row, args.rounds,
        plain=for_seconds(args.seconds, lambda i: plain.series_by_day(pairs, FIRST_DAY, 30)),
        **sides(lambda b: for_seconds(args.seconds, lambda i: b.get_metrics(pairs, FIRST_DAY, 30, group_by="day"))),
    ))

    # (c') one series of 30 days: a small call, where the library's own work per
    # call (checks, the read plan, shaping the result) weighs against the network
    pair = pairs[0]
    row = Row(hosts, "get_metric_by_day, 30 days", "calls")
    assert backend.get_metric_by_day(pair[0], pair[1], FIRST_DAY, 30) == plain.series_by_day([pair], FIRST_DAY, 30)[0]
    row.lib_counts = counter.measure(lambda: backend.get_metric_by_day(pair[0], pair[1], FIRST_DAY, 30), 1)
    row.plain_counts = counter.measure(lambda: plain.series_by_day([pair], FIRST_DAY, 30), 1)
    rows.append(compare(
        row, args.rounds,
        plain=for_seconds(args.seconds, lambda i: plain.series_by_day([pair], FIRST_DAY, 30)),
        **sides(lambda b: for_seconds(args.seconds, lambda i: b.get_metric_by_day(pair[0], pair[1], FIRST_DAY, 30))),
    ))

    # (d) one count over two years
    first, last = two_years[14], two_years[-20]
    row = Row(hosts, "get_count, 2-year range", "calls")
    assert backend.get_count("user0", "metric0", first, last) == plain.count_between("user0", "metric0", first, last)
    row.lib_counts = counter.measure(lambda: backend.get_count("user0", "metric0", first, last), 1)
    row.plain_counts = counter.measure(lambda: plain.count_between("user0", "metric0", first, last), 1)
    rows.append(compare(
        row, args.rounds,
        plain=for_seconds(args.seconds, lambda i: plain.count_between("user0", "metric0", first, last)),
        **sides(lambda b: for_seconds(args.seconds, lambda i: b.get_count("user0", "metric0", first, last))),
    ))

    # (e) 1,000 all-time counts
    row = Row(hosts, "get_counts, 1000 pairs", "calls")
    assert backend.get_counts(read_pairs) == plain.counts(read_pairs)
    row.lib_counts = counter.measure(lambda: backend.get_counts(read_pairs), 1)
    row.plain_counts = counter.measure(lambda: plain.counts(read_pairs), 1)
    rows.append(compare(
        row, args.rounds,
        plain=for_seconds(args.seconds, lambda i: plain.counts(read_pairs)),
        **sides(lambda b: for_seconds(args.seconds, lambda i: b.get_counts(read_pairs))),
    ))

    # (f) every other call with a small argument (benchmarks/small.py)
    from benchmarks import small

    rows += small.sync_rows(topology, args, sys.modules[__name__])

    if not args.no_async:
        from benchmarks.aio import run_async_rows

        rows += run_async_rows(topology, args, sys.modules[__name__])
    return rows


# -- ceiling and report ----------------------------------------------------------

def redis_benchmark(port: int, requests: int, command: List[str]) -> float:
    """Requests per second of ``redis-benchmark -P 64`` for one command (random keys/fields)."""
    output = subprocess.run(
        ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-P", "64", "-n", str(requests),
         "-r", "100000", "--csv"] + command,
        check=True, capture_output=True, text=True,
    ).stdout
    last = [line for line in output.splitlines() if line.strip()][-1]
    return float(last.split(",")[1].strip('"'))


def ceiling(port: int, requests: int) -> Dict[str, float]:
    """The server's rate for the commands of a tracked event, with 64 commands per round trip."""
    hincrby = redis_benchmark(port, requests, ["hincrby", "bench:__rand_int__", "f:__rand_int__", "1"])
    incrby = redis_benchmark(port, requests, ["incrby", "bench:c:__rand_int__", "1"])
    # A tracked event is three HINCRBY and one INCRBY.
    mix = 1.0 / (0.75 / hincrby + 0.25 / incrby)
    return {"hincrby": hincrby, "incrby": incrby, "mix": mix}


def machine() -> List[str]:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as handle:
            model = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), model)
    try:
        import hiredis

        parser = "hiredis %s" % hiredis.__version__
    except ImportError:
        parser = "no hiredis"
    return [
        "%d cores, %s, Python %s" % (os.cpu_count() or 0, model, platform.python_version()),
        "redis-py %s (%s; parser %s)" % (redis.__version__, parser, redis.connection.DefaultParser.__name__),
    ]


def table(rows: List[Row], chunk: int) -> str:
    header: Tuple[str, ...] = ("hosts", "scenario", "analytics", "redis-py", "ratio", "round trips (lib, py)",
                               "commands (lib, py)", "per")
    then = any(row.then for row in rows)
    if then:
        header += ("vs then",)
    lines = [header]
    for row in rows:
        lines.append(tuple(filter(lambda cell: cell is not None, (
            row.hosts, row.name,
            "%.0f %s/s" % (statistics.median(row.lib), row.unit),
            "%.0f %s/s" % (statistics.median(row.plain), row.unit),
            "%.2f" % row.ratio,
            "%s, %s" % (_num(row.lib_counts[0]), _num(row.plain_counts[0])),
            "%s, %s" % (_num(row.lib_counts[1]), _num(row.plain_counts[1])),
            row.per,
            row.vs_then if then else None,
        ))))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    rule = "  ".join("=" * w for w in widths)
    out = [rule, "  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(), rule]
    out += ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in lines[1:]]
    out.append(rule)
    for row in rows:
        if row.ceilings:
            rate = statistics.median(row.lib)
            sent, unmerged, mix = rate * row.lib_counts[1] / chunk, rate * 4, row.ceiling("mix")
            out.append("%s, bulk: %.0f commands/s sent, %.0f%% of the redis-benchmark -P 64 rate for the same "
                       "commands (%.0f/s: HINCRBY %.0f/s, INCRBY %.0f/s); %.0f%% counting 4 commands per event" % (
                           row.hosts, sent, 100 * sent / mix, mix, row.ceiling("hincrby"), row.ceiling("incrby"),
                           100 * unmerged / mix))
    return "\n".join(out)


def _num(value: float) -> str:
    return ("%.3f" % value).rstrip("0").rstrip(".")


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100,000 bulk events, 3 rounds of 0.5 s")
    parser.add_argument("--events", type=int, help="events in the bulk scenario (default 1,000,000)")
    parser.add_argument("--rounds", type=int, help="rounds per side (default 5; 3 with --quick)")
    parser.add_argument("--seconds", type=float, help="length of one timed round of the per-call scenarios")
    parser.add_argument("--chunk-size", type=int, default=10000, help="events per chunk in the bulk scenario")
    parser.add_argument("--hosts", default="1,3", help="comma-separated host counts to run (default 1,3)")
    parser.add_argument("--cluster", action="store_true", help="also run on a 3-primary Redis Cluster")
    parser.add_argument("--no-ceiling", action="store_true", help="skip the redis-benchmark -P 64 runs")
    parser.add_argument("--no-async", action="store_true", help="skip the asyncio rows")
    parser.add_argument("--then", metavar="REVISION", help="also time the sync rows on this git revision's "
                        "backend (benchmarks/then.py), e.g. 28c09f7, the last one before the asyncio twin")
    parser.add_argument("--plots", metavar="DIR", help="after the table, measure the cost curves "
                        "(benchmarks/curves.py; quick sizes with --quick) and write their PNGs and curves.csv to DIR")
    args = parser.parse_args(argv)
    if args.plots:
        from benchmarks.curves import require_matplotlib

        require_matplotlib()  # before the table's minutes, not after
    args.events = args.events or (100000 if args.quick else 1000000)
    args.rounds = args.rounds or (3 if args.quick else 5)
    args.seconds = args.seconds or (0.5 if args.quick else 2.0)

    for line in machine():
        print(line)
    then_class = None
    if args.then:
        from benchmarks.then import backend_class

        then_class, short = backend_class(args.then)
        print("then: revision %s (vs then = today's rate / its rate, in the same rounds)" % short)
    rows: List[Row] = []
    names = [part.strip() for part in args.hosts.split(",") if part.strip()] + (["cluster"] if args.cluster else [])
    for name in names:
        topology = cluster_topology() if name == "cluster" else host_topology(int(name))
        if then_class is not None:
            topology.then = then_class(topology.settings)
        try:
            if not rows:
                print("Redis %s" % topology.admin[0].info("server")["redis_version"])
            rows += run_topology(topology, args)
        finally:
            topology.close()
    print()
    print(table(rows, args.chunk_size))
    if args.plots:
        from benchmarks.curves import run as run_curves

        print()
        run_curves(args.plots, args.quick)


if __name__ == "__main__":
    main()
