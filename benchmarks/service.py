"""Throughput of the HTTP service next to the library called in-process.

    python3 -m benchmarks.service --quick      # about two minutes on 2 cores
    python3 -m benchmarks.service              # more rounds, longer ones

Starts its own redis-server and ``analytics serve`` processes on free loopback
ports (one uvicorn worker, then two), and alternates, round after round:

* ``POST /v1/events`` with 1,000-event JSON bodies (4 clients at once) against
  ``track_metrics`` in-process on the sync backend, 1,000 events per call;
* ``GET /v1/series``, one (uid, metric) pair x 30 days, from 50 concurrent
  clients, against the asyncio backend's ``get_metrics`` called by 50
  concurrent tasks in-process.

The table gives medians over the rounds and their ratio; latencies are the
median round's p50 and p99.  The load generator shares the machine with the
service and Redis.
"""
import argparse
import asyncio
import datetime
import json
import os
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

import httpx

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from analytics.aio import create_analytic_backend as create_async  # noqa: E402
from analytics.backends.redis import Redis  # noqa: E402
from benchmarks.run import event_pool, machine  # noqa: E402
from servers import RedisServer  # noqa: E402
from service_servers import Service  # noqa: E402

DAY = datetime.date(2026, 1, 1)
BODY_EVENTS = 1000
POSTERS = 4
READERS = 50


class Measure:
    """One timed run: items done, seconds, and each request's latency."""

    def __init__(self, items: int, seconds: float, latencies: List[float]):
        self.items, self.seconds, self.latencies = items, seconds, sorted(latencies)

    @property
    def rate(self) -> float:
        return self.items / self.seconds

    def percentile(self, share: float) -> float:
        if not self.latencies:
            return float("nan")
        return self.latencies[min(len(self.latencies) - 1, int(share * len(self.latencies)))]


async def for_seconds(seconds: float, workers: int, call: Callable[[int], Any], per_call: int) -> Measure:
    """``call(i)`` in ``workers`` concurrent loops for ``seconds``."""
    latencies: List[float] = []
    done = [0]
    stop = time.perf_counter() + seconds

    async def loop(worker: int) -> None:
        i = worker
        while time.perf_counter() < stop:
            started = time.perf_counter()
            await call(i)
            latencies.append(time.perf_counter() - started)
            done[0] += per_call
            i += workers

    started = time.perf_counter()
    await asyncio.gather(*(loop(worker) for worker in range(workers)))
    return Measure(done[0], time.perf_counter() - started, latencies)


def bodies(count: int) -> List[bytes]:
    pool = event_pool(count * BODY_EVENTS)
    return [json.dumps([{"uid": uid, "metric": metric, "date": day.isoformat(), "inc": inc}
                        for uid, metric, day, inc in pool[i:i + BODY_EVENTS]]).encode()
            for i in range(0, len(pool), BODY_EVENTS)]


def post_events(url: str, seconds: float, payloads: List[bytes]) -> Measure:
    async def run() -> Measure:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            async def post(i: int) -> None:
                answer = await client.post("/v1/events", content=payloads[i % len(payloads)],
                                           headers={"Content-Type": "application/json"})
                assert answer.status_code == 200, answer.text

            return await for_seconds(seconds, POSTERS, post, BODY_EVENTS)

    return asyncio.run(run())


def track_in_process(backend: Redis, seconds: float, chunks: List[List[Tuple]]) -> Measure:
    latencies: List[float] = []
    done, i = 0, 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        began = time.perf_counter()
        done += backend.track_metrics(chunks[i % len(chunks)], chunk_size=BODY_EVENTS)
        latencies.append(time.perf_counter() - began)
        i += 1
    return Measure(done, time.perf_counter() - started, latencies)


class Connection:
    """A keep-alive HTTP/1.1 connection that sends one GET and reads its answer.

    Hand-written because httpx's AsyncClient, at 50 concurrent connections,
    was itself the bottleneck (about 50 requests/s here, against some 300 with
    this on the same service).
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> "Connection":
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def get(self, target: str) -> int:
        self.writer.write(b"GET %s HTTP/1.1\r\nHost: bench\r\n\r\n" % target.encode())
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        length = next(int(line.split(b":", 1)[1]) for line in lines if line.lower().startswith(b"content-length:"))
        await self.reader.readexactly(length)
        return int(lines[0].split()[1])

    def close(self) -> None:
        self.writer.close()


def read_series(port: int, seconds: float) -> Measure:
    async def run() -> Measure:
        connections = [await Connection.open(port) for _ in range(READERS)]
        try:
            async def read(i: int) -> None:
                status = await connections[i % READERS].get(
                    "/v1/series?uid=user%d&metric=metric1&group_by=day&from=%s&limit=30" % (i % 100, DAY))
                assert status == 200, status

            return await for_seconds(seconds, READERS, read, 1)
        finally:
            for connection in connections:
                connection.close()

    return asyncio.run(run())


def read_in_process(settings: Dict[str, Any], seconds: float) -> Measure:
    async def run() -> Measure:
        backend = create_async(settings)
        try:
            async def read(i: int) -> None:
                await backend.get_metrics([("user%d" % (i % 100), "metric1")], DAY, limit=30, group_by="day")

            return await for_seconds(seconds, READERS, read, 1)
        finally:
            await backend.aclose()

    return asyncio.run(run())


def compare(rounds: int, http: Callable[[], Measure], direct: Callable[[], Measure]) -> Tuple[Measure, Measure]:
    """Alternating rounds; the median round of each side."""
    over_http: List[Measure] = []
    in_process: List[Measure] = []
    for _ in range(rounds):
        over_http.append(http())
        in_process.append(direct())

    def median(found: List[Measure]) -> Measure:
        return sorted(found, key=lambda m: m.rate)[len(found) // 2]

    return median(over_http), median(in_process)


def row(scenario: str, workers: int, unit: str, http: Measure, direct: Measure) -> List[str]:
    return [scenario, str(workers), "%.0f %s" % (http.rate, unit), "%.0f %s" % (direct.rate, unit),
            "%.2f" % (http.rate / direct.rate),
            "%.1f / %.1f" % (http.percentile(0.5) * 1000, http.percentile(0.99) * 1000),
            "%.1f / %.1f" % (direct.percentile(0.5) * 1000, direct.percentile(0.99) * 1000)]


def table(rows: List[List[str]]) -> str:
    header = ["scenario", "workers", "HTTP", "in-process", "ratio", "HTTP p50 / p99 ms", "in-process p50 / p99 ms"]
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    rule = "  ".join("=" * w for w in widths)
    lines = [rule, "  ".join(h.ljust(w) for h, w in zip(header, widths)), rule]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(lines + [rule])


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds of 2 seconds")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--seconds", type=float)
    args = parser.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 5)
    seconds = args.seconds or (2.0 if args.quick else 5.0)
    server = RedisServer().start()
    settings = {"backend": "analytics.backends.redis.Redis", "settings": {"hosts": [server.url + "/0"]}}
    payloads = bodies(20)
    pool = event_pool(20 * BODY_EVENTS)
    chunks = [pool[i:i + BODY_EVENTS] for i in range(0, len(pool), BODY_EVENTS)]
    rows = []
    try:
        with Redis(settings["settings"]) as seeding:
            seeding.track_metrics(pool)
        for workers in (1, 2):
            service = Service(["--url", server.url + "/0", "--workers", str(workers), "--log-level", "error"]).start()
            try:
                with Redis(settings["settings"]) as backend:
                    http, direct = compare(rounds, lambda: post_events(service.url, seconds, payloads),
                                           lambda: track_in_process(backend, seconds, chunks))
                rows.append(row("POST /v1/events, 1,000-event bodies", workers, "events/s", http, direct))
                http, direct = compare(rounds, lambda: read_series(service.port, seconds),
                                       lambda: read_in_process(settings, seconds))
                rows.append(row("GET /v1/series, 1 pair x 30 days, 50 clients", workers, "req/s", http, direct))
            finally:
                service.stop()
    finally:
        server.cleanup()
    print("\n".join(machine()))
    print("%d rounds of %.0f s, alternating; POST with %d clients at once" % (rounds, seconds, POSTERS))
    print(table(rows))


if __name__ == "__main__":
    main()
