"""The asyncio rows: ``analytics.aio`` next to hand-written ``redis.asyncio`` code sending the same commands.

The baseline queues exactly the commands of :class:`benchmarks.plain.Plain`
(its own key building, reused) on ``redis.asyncio`` pipelines, one per host,
executed one host after the other as ordinary redis.asyncio code does.  Both
sides run on one event loop, alternating rounds, as the sync rows do.
"""
import asyncio
import datetime
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Sequence, Tuple

import redis.asyncio

from analytics.aio.backends.redis import Redis as AsyncRedis
from benchmarks.plain import Plain


class AsyncPlain(Plain):
    """:class:`Plain` on ``redis.asyncio`` clients: the same pipelines, awaited."""

    async def track(self, uid: str, metric: str, day: datetime.date, amount: int = 1) -> List:  # type: ignore[override]
        pipes: Dict = {}
        self.queue_event(pipes, uid, metric, day, amount, self.transactions)
        replies: List = []
        for pipe in pipes.values():
            replies.extend(await pipe.execute())
        return replies

    async def bulk(self, events: Iterable[Tuple], chunk_size: int) -> int:  # type: ignore[override]
        pipes: Dict = {}
        queued = 0
        for uid, metric, day, amount in events:
            self.queue_event(pipes, uid, metric, day, amount, False)
            queued += 1
            if queued % chunk_size == 0:
                for pipe in pipes.values():
                    await pipe.execute()
                pipes = {}
        for pipe in pipes.values():
            await pipe.execute()
        return queued

    async def series_by_day(self, pairs: Sequence[Tuple[str, str]], start: datetime.date,  # type: ignore[override]
                            limit: int) -> List:
        pipes, collect = self.queue_series_by_day(pairs, start, limit)
        return collect({index: await pipe.execute() for index, pipe in pipes.items()})


async def _gather(calls: Iterable[Awaitable[Any]]) -> List[Any]:
    return list(await asyncio.gather(*calls))


def async_rate(loop: asyncio.AbstractEventLoop, seconds: float, call: Callable[[int], Awaitable[Any]],
               tasks: int = 1, per_call: int = 1) -> Callable[[], int]:
    """An action running ``tasks`` concurrent loops of ``call(i)`` for ``seconds``; it returns the units done."""

    def action() -> int:
        async def worker(offset: int) -> int:
            deadline = loop.time() + seconds
            done = 0
            while loop.time() < deadline:
                for _ in range(10):
                    await call(offset + done)
                    done += 1
            return done

        counts = loop.run_until_complete(_gather(worker(n * 7919) for n in range(tasks)))
        return sum(counts) * per_call

    return action


def run_async_rows(topology: Any, args: Any, helpers: Any) -> List[Any]:
    """The asyncio rows on one topology (``helpers`` is benchmarks.run, for its Row, compare and workloads)."""
    if "cluster" in topology.settings:
        from redis.asyncio.cluster import RedisCluster

        clients: List[Any] = [RedisCluster(host="127.0.0.1", port=topology.plain.clients[0].get_nodes()[0].port,
                                           decode_responses=True)]
    else:
        clients = [redis.asyncio.Redis(host="127.0.0.1", port=client.connection_pool.connection_kwargs["port"],
                                       decode_responses=True, max_connections=2 ** 31)
                   for client in topology.plain.clients]
    plain = AsyncPlain(clients, topology.plain.route, transactions=topology.plain.transactions)
    backend = AsyncRedis(topology.settings)
    loop = asyncio.new_event_loop()
    counter, hosts, rows = topology.counter, topology.name, []
    pool = helpers.event_pool(min(args.events, 100000))
    run = loop.run_until_complete

    try:
        for tasks in (1, 100):
            topology.flush()
            row = helpers.Row(hosts, "async track_metric, %d task%s" % (tasks, "s" if tasks > 1 else ""), "events")
            row.lib_counts = counter.measure(lambda: run(_gather(backend.track_metric(*pool[i]) for i in range(100))),
                                             100)
            row.plain_counts = counter.measure(lambda: run(_gather(plain.track(*pool[i]) for i in range(100))), 100)
            rows.append(helpers.compare(
                row, args.rounds,
                async_rate(loop, args.seconds, lambda i: backend.track_metric(*pool[i % len(pool)]), tasks),
                async_rate(loop, args.seconds, lambda i: plain.track(*pool[i % len(pool)]), tasks),
            ))

        chunk = args.chunk_size
        row = helpers.Row(hosts, "async bulk, %d events" % args.events, "events", per="chunk of %d events" % chunk)
        topology.flush()
        row.lib_counts = counter.measure(
            lambda: run(backend.track_metrics(helpers.stream(pool, 4 * chunk), chunk_size=chunk)), 4)
        row.plain_counts = counter.measure(lambda: run(plain.bulk(helpers.stream(pool, 4 * chunk), chunk)), 4)

        def bulk_lib() -> int:
            run(backend.track_metrics(helpers.stream(pool, args.events), chunk_size=chunk))
            return args.events

        def bulk_plain() -> int:
            return run(plain.bulk(helpers.stream(pool, args.events), chunk))

        rows.append(helpers.compare(row, args.rounds, bulk_lib, bulk_plain, between=topology.flush))

        topology.flush()
        pairs = [("user%d" % i, "metric%d" % (i % 10)) for i in range(100)]
        events = [(uid, metric, helpers.FIRST_DAY + datetime.timedelta(days=d), 1) for uid, metric in pairs
                  for d in range(30)]
        topology.plain.bulk(events, 1000)
        row = helpers.Row(hosts, "async get_metrics, 100 x 30 days", "calls")
        expected = topology.plain.series_by_day(pairs, helpers.FIRST_DAY, 30)
        assert run(backend.get_metrics(pairs, helpers.FIRST_DAY, 30, group_by="day")) == expected
        assert run(plain.series_by_day(pairs, helpers.FIRST_DAY, 30)) == expected
        row.lib_counts = counter.measure(lambda: run(backend.get_metrics(pairs, helpers.FIRST_DAY, 30, "day")), 1)
        row.plain_counts = counter.measure(lambda: run(plain.series_by_day(pairs, helpers.FIRST_DAY, 30)), 1)
        rows.append(helpers.compare(
            row, args.rounds,
            async_rate(loop, args.seconds, lambda i: backend.get_metrics(pairs, helpers.FIRST_DAY, 30, "day")),
            async_rate(loop, args.seconds, lambda i: plain.series_by_day(pairs, helpers.FIRST_DAY, 30)),
        ))
        from benchmarks import small

        rows += small.async_rows(topology, args, helpers, loop, backend, plain)
    finally:
        run(backend.aclose())
        for client in clients:
            run(client.aclose())
        loop.close()
    return rows
