"""Throughput and memory of ``analytics export`` and ``analytics import`` next to hand-written baselines.

    python3 -m benchmarks.transfer --quick     # 100,000 events; memory at 10,000 vs 100,000
    python3 -m benchmarks.transfer             # 1,000,000 events; memory at 100,000 vs 1,000,000

Starts its own redis-server on a free loopback port and stores ``--events``
events (``benchmarks.run.event_pool``: 10,000 uids x 10 metrics x 60 days).
Then, in alternating rounds, with medians and their ratio:

* **export**: the ``analytics export`` command (in-process, to a file) against
  a raw dump written by hand with redis-py: ``SCAN`` of the day hashes with a
  pipelined ``HGETALL`` per page and ``SCAN`` of the counters with ``MGET``,
  each field written as a CSV row (what ``redis-cli --scan`` + ``HGETALL`` does).
  Rate: rows written per second.
* **import**: ``analytics import`` of that export into an empty database against
  ``track_metrics`` called directly with the same day rows already in memory.
  The command also parses the file and sets every all-time counter to its
  exported value (``set_counts``), which the baseline does not; it runs with
  Python's cycle collector made rarer (see ``analytics.transfer``), the
  baseline with the process's own settings.  Rate: day rows per second.  The **events** row imports
  the same day rows as a plain CSV of events, without counter rows: the
  parsing alone.

The CPU ratio compares rows per CPU second of this process (the client side
only), which a machine shared with other work disturbs less than wall time.
Peak memory is the ``ru_maxrss`` of ``python -m analytics export`` and
``import`` subprocesses at two sizes: flat memory means the same peak.
"""
import argparse
import contextlib
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import redis  # noqa: E402

from analytics import cli, schema  # noqa: E402
from analytics.backends.redis import Redis  # noqa: E402
from analytics.formats import read_stored  # noqa: E402
from benchmarks.run import event_pool  # noqa: E402
from servers import RedisServer  # noqa: E402

PREFIX = "bench"


def run_cli(args: List[str]) -> None:
    """``analytics ARGS`` in this process, its summary lines dropped."""
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        cli.cli.main(args=args, prog_name="analytics", standalone_mode=False)


def raw_dump(client: redis.Redis, path: str, page: int = 1000) -> int:
    """Every day-hash field and every counter of :data:`PREFIX` as CSV rows, by hand; returns the rows."""
    rows = 0
    base = schema.prefix_pattern(PREFIX)[:-1]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for pattern, hashes in ((base + "user:*:analy:??-??", True), (base + "analy:*:count:*", False)):
            cursor = 0
            while True:
                cursor, keys = client.scan(cursor=cursor, match=pattern, count=page)
                if keys:
                    if hashes:
                        pipe = client.pipeline(transaction=False)
                        for key in keys:
                            pipe.hgetall(key)
                        for key, fields in zip(keys, pipe.execute()):
                            writer.writerows([(key, field, value) for field, value in fields.items()])
                            rows += len(fields)
                    else:
                        writer.writerows(zip(keys, client.mget(keys)))
                        rows += len(keys)
                if cursor == 0:
                    break
    return rows


def timed(action: Callable[[], int]) -> Tuple[float, float]:
    """``(units per wall-clock second, units per CPU second of this process)`` of ``action``."""
    start, cpu = time.perf_counter(), time.process_time()
    units = action()
    return units / (time.perf_counter() - start), units / max(time.process_time() - cpu, 1e-9)


def alternate(rounds: int, lib: Callable[[], int], plain: Callable[[], int],
              between: Optional[Callable[[], None]] = None) -> Dict[str, List[Tuple[float, float]]]:
    """Both rates of both sides per round, alternating which side goes first."""
    rates: Dict[str, List[Tuple[float, float]]] = {"lib": [], "plain": []}
    for index in range(rounds):
        order = [("lib", lib), ("plain", plain)]
        for name, action in (order if index % 2 == 0 else order[::-1]):
            if between is not None:
                between()
            rates[name].append(timed(action))
    return rates


def medians(rates: Dict[str, List[Tuple[float, float]]]) -> Tuple[float, float, float, float]:
    """Median wall rates of both sides, their ratio, and the ratio of the median CPU rates."""
    lib, plain = (statistics.median(rate for rate, _ in rates[side]) for side in ("lib", "plain"))
    lib_cpu, plain_cpu = (statistics.median(cpu for _, cpu in rates[side]) for side in ("lib", "plain"))
    return lib, plain, lib / plain, lib_cpu / plain_cpu


#: Runs ``analytics ARGS`` and prints its peak RSS.  ``VmHWM`` rather than ``ru_maxrss``: on
#: Linux the latter carries over the parent's RSS from before ``exec``.
MEASURED = """
import atexit, sys
from analytics.cli import main

def report():
    with open("/proc/self/status") as status:
        sys.stderr.write(next(line for line in status if line.startswith("VmHWM:")).split()[1] + "\\n")

atexit.register(report)
main(sys.argv[1:])
"""


def peak_rss_kib(args: List[str]) -> int:
    """The peak resident memory of ``analytics ARGS`` run in a fresh Python (KiB)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-c", MEASURED, *args], env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, check=True)
    return int(done.stderr.split()[-1])


def load(url: str, events: int) -> None:
    backend = Redis({"hosts": [url]}, prefix=PREFIX)
    pool = event_pool(min(events, 1000000))
    backend.track_metrics(pool[i % len(pool)] for i in range(events))
    backend.close()


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100,000 events, 3 rounds")
    parser.add_argument("--events", type=int, help="events stored (default 1,000,000; 100,000 with --quick)")
    parser.add_argument("--rounds", type=int, help="rounds per side (default 5; 3 with --quick)")
    parser.add_argument("--memory-sizes", help="two event counts for the memory comparison "
                        "(default 100000,1000000; 10000,100000 with --quick)")
    args = parser.parse_args(argv)
    events = args.events or (100000 if args.quick else 1000000)
    rounds = args.rounds or (3 if args.quick else 5)
    sizes = [int(size) for size in (args.memory_sizes or ("10000,100000" if args.quick else "100000,1000000"))
             .split(",")]

    server = RedisServer().start()
    folder = tempfile.mkdtemp(prefix="analytics-transfer-bench-")
    try:
        source = "redis://127.0.0.1:%d/0" % server.port
        target = "redis://127.0.0.1:%d/1" % server.port
        load(source, events)
        export_file = os.path.join(folder, "export.csv")
        raw_file = os.path.join(folder, "raw.csv")
        source_client = server.client(0)

        def export_lib() -> int:
            run_cli(["--url", source, "--prefix", PREFIX, "export", "-o", export_file])
            with open(export_file, encoding="utf-8") as handle:
                return sum(1 for _ in handle) - 1

        print("%d events stored, redis-server %s, Python %s" % (
            events, source_client.info("server")["redis_version"], sys.version.split()[0]), flush=True)
        export_rates = alternate(rounds, export_lib, lambda: raw_dump(source_client, raw_file))

        with open(export_file, encoding="utf-8") as handle:
            day_rows = [row for row in read_stored(handle) if row[2] is not None]
        target_client = server.client(1)
        target_backend = Redis({"hosts": [target]}, prefix=PREFIX)

        def import_lib() -> int:
            run_cli(["--url", target, "--prefix", PREFIX, "import", export_file])
            return len(day_rows)

        def import_plain() -> int:
            return target_backend.track_metrics(day_rows)

        import_rates = alternate(rounds, import_lib, import_plain, between=target_client.flushdb)

        # The same day rows without the counter rows: what parsing alone costs.
        events_file = os.path.join(folder, "events.csv")
        with open(events_file, "w", encoding="utf-8") as handle:
            handle.writelines("%s,%s,%s,%d\n" % (uid, metric, day.isoformat(), count)
                              for uid, metric, day, count in day_rows)

        def import_events() -> int:
            run_cli(["--url", target, "--prefix", PREFIX, "import", events_file])
            return len(day_rows)

        events_rates = alternate(rounds, import_events, import_plain, between=target_client.flushdb)
        target_backend.close()

        memory = []
        for size in sizes:
            server.client(2).flushdb()
            sized = "redis://127.0.0.1:%d/2" % server.port
            load(sized, size)
            dump = os.path.join(folder, "sized.csv")
            exported = peak_rss_kib(["--url", sized, "--prefix", PREFIX, "export", "-o", dump])
            server.client(3).flushdb()
            imported = peak_rss_kib(["--url", "redis://127.0.0.1:%d/3" % server.port, "--prefix", PREFIX,
                                     "import", dump])
            memory.append((size, exported, imported))

        print()
        print("%-8s %12s %12s %7s %10s  %s" % ("", "analytics", "baseline", "ratio", "cpu ratio", "unit"))
        for name, rates, unit in (("export", export_rates, "rows/s (raw SCAN+HGETALL dump)"),
                                  ("import", import_rates, "day rows/s (track_metrics), counters set too"),
                                  ("events", events_rates, "day rows/s (track_metrics), a CSV of events")):
            print("%-8s %12.0f %12.0f %7.2f %10.2f  %s" % ((name,) + medians(rates) + (unit,)))
        print()
        print("peak RSS of python -m analytics (KiB):")
        for size, exported, imported in memory:
            print("  %9d events: export %7d  import %7d" % (size, exported, imported))
    finally:
        server.cleanup()
        subprocess.run(["rm", "-rf", folder], check=False)


if __name__ == "__main__":
    main()
