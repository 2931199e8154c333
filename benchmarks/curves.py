"""Cost curves: how each call's cost grows with its work, as numbers and as plots.

    python3 -m benchmarks.curves DIR --quick   # about a minute on 2 cores
    python3 -m benchmarks.curves DIR           # the ranges of issue 11
    python3 -m benchmarks.run --plots DIR      # the same, after the usual table

Starts its own redis-server processes on free loopback ports (with
:func:`benchmarks.run.host_topology` and :func:`benchmarks.run.cluster_topology`)
and measures the library's sync backend, :class:`analytics.backends.redis.Redis`:

* ``pairs``: per-pair cost of ``track_metric(uids, metric)``, ``get_counts(pairs)``
  and ``get_metrics(pairs, group_by="week", limit=10)`` with n uids or pairs per call;
* ``buckets``: per-bucket cost of ``get_metric_by_day/week/month(..., limit=n)``
  (one event a day was tracked for the largest n days; later weeks and months are empty);
* ``bulk_events``: per-event cost of ``track_metrics(generator)`` of n events, and
  the peak memory growth of the process during the call;
* ``hosts`` and ``cluster``: per-event cost of the same bulk call over host lists
  of n hosts and Redis Clusters of n primaries;
* ``read_memory``: the tracemalloc peak of ``get_metrics(pairs, group_by="week",
  limit=10)`` per returned value, and what the result itself keeps.

Every point is the median of a few repetitions; a repetition of a per-call
point makes calls of n items until about ``budget`` items are done, and its
cost per item is the elapsed time over the items.  Each bulk repetition runs
in a fresh process (``multiprocessing``'s spawn), on emptied servers, so that
no earlier repetition's heap hides a peak: its memory is the growth of the
process's resident set (Linux's ``VmHWM`` after the call, the peak reset through
``/proc/self/clear_refs`` just before, minus ``VmRSS`` before), which also counts
what C code (hiredis, sockets) allocates.  The read memory is tracemalloc's:
Python allocations only, which is where a call's replies and results live.

Writes ``pairs.png``, ``buckets.png``, ``bulk_events.png``, ``hosts.png``,
``cluster.png`` and ``read_memory.png`` (matplotlib, the ``bench`` extra) and
``curves.csv`` with every repetition's value to DIR, and prints the medians
with, per curve, whether the cost per item is flat or falling as work grows.
"""
import argparse
import contextlib
import csv
import datetime
import functools
import gc
import math
import multiprocessing
import os
import statistics
import time
import tracemalloc
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from benchmarks.run import (FIRST_DAY, Topology, cluster_topology, event_pool, host_topology, machine, stream,
                            timed_rate)

from analytics.backends.redis import Redis

PREFIX = "curves"
#: Weeks per series in the ``get_metrics`` curves (the issue's "10 weeks").
WEEKS = 10
#: A curve is flat or falling when its largest size costs at most this much
#: more per item than the cheapest of the sizes before it, the smallest left
#: out of the per-call curves (that is where fixed costs per call, or a partial
#: bulk chunk, dominate): a cost that falls and then climbs again is a growth.
FLAT = 1.2
#: The issue's aim for read memory, in bytes per returned value.
READ_AIM = 100.0
MIB = 1024 * 1024

FAMILIES: Dict[str, Tuple[str, str]] = {
    "pairs": ("Per-pair cost of one call with n pairs", "pairs per call"),
    "buckets": ("Per-bucket cost of one series read with limit=n", "buckets per call"),
    "bulk_events": ("Bulk track_metrics(generator) of n events, 1 host", "events per call"),
    "hosts": ("Bulk track_metrics over a host list", "hosts"),
    "cluster": ("Bulk track_metrics over Redis Cluster", "primaries"),
    "read_memory": ("get_metrics(group_by='week', limit=%d): memory per returned value" % WEEKS, "pairs per call"),
}


@dataclass(frozen=True)
class Sizes:
    """The x values of every curve, and how hard each point is worked."""

    pairs: Sequence[int]
    buckets: Sequence[int]
    bulk_events: Sequence[int]
    hosts: Sequence[int]
    primaries: Sequence[int]
    read_pairs: Sequence[int]
    #: Events per bulk call on the host lists and clusters.
    topology_events: int
    #: Items per repetition of a per-call point.
    budget: int
    repeats: int
    #: Distinct events every bulk generator cycles over: the same for every
    #: size, so that the memory a process starts with is the same too.
    pool: int = 100000


#: Seconds a call of the per-call and read-memory curves may take (see :func:`measure`).
READ_TIMEOUT = 120.0

# The quick bulk curve goes past 10^5 events: a call's peak memory settles
# only from its second chunk of 10^4 on, and its smallest-but-one size is
# what the largest is compared with.
QUICK = Sizes(pairs=(1, 10, 100, 1000), buckets=(1, 10, 100, 1000), bulk_events=(10000, 100000, 300000),
              hosts=(1, 2, 3), primaries=(3,), read_pairs=(1000, 10000), topology_events=100000, budget=2000,
              repeats=3)
FULL = Sizes(pairs=(1, 10, 100, 1000, 10000), buckets=(1, 10, 100, 1000),
             bulk_events=(10000, 100000, 1000000, 10000000), hosts=tuple(range(1, 8)), primaries=(3, 4, 5, 6),
             read_pairs=(1000, 10000, 100000), topology_events=1000000, budget=20000, repeats=3)


@dataclass
class Curve:
    """One line of one plot: every repetition's value at each size."""

    family: str
    name: str
    unit: str
    #: An upper bound the issue asks the largest size to stay under.
    aim: Optional[float] = None
    sizes: List[int] = field(default_factory=list)
    runs: List[List[float]] = field(default_factory=list)

    def add(self, size: int, values: List[float]) -> None:
        self.sizes.append(size)
        self.runs.append(values)

    @property
    def medians(self) -> List[float]:
        return [statistics.median(values) for values in self.runs]


# -- per-call curves -------------------------------------------------------------

def calls_of(call: Callable[[], Any], size: int, budget: int) -> Callable[[], int]:
    """An action making ``budget // size`` calls (one at least) of ``size`` items; it returns the items done."""
    count = max(1, budget // size)

    def action() -> int:
        for _ in range(count):
            call()
        return count * size

    return action


def per_call_curve(family: str, name: str, unit: str, sizes: Sequence[int],
                   call_of: Callable[[int], Callable[[], Any]], plan: Sizes) -> Curve:
    """Microseconds per item of ``call_of(n)()``, a call of n items, for each n of ``sizes``."""
    curve = Curve(family, name, unit)
    for size in sizes:
        call = call_of(size)
        call()  # connecting and filling the library's caches are not a per-item cost
        action = calls_of(call, size, plan.budget)
        curve.add(size, [1e6 / timed_rate(action) for _ in range(plan.repeats)])
    print("  %s: %s measured" % (family, name), flush=True)
    return curve


def load(backend: Redis, pairs: Sequence[Tuple[str, str]], days: int) -> None:
    """What the reads read: one event a week per pair for ``WEEKS`` weeks, and a daily series of ``days`` days."""
    weeks = [FIRST_DAY + datetime.timedelta(weeks=week) for week in range(WEEKS)]
    backend.track_metrics((uid, metric, day, 1) for uid, metric in pairs for day in weeks)
    backend.track_metrics(("daily", "visits", FIRST_DAY + datetime.timedelta(days=day), 1) for day in range(days))


def pair_curves(backend: Redis, pairs: Sequence[Tuple[str, str]], plan: Sizes) -> List[Curve]:
    writers = ["writer%d" % i for i in range(max(plan.pairs))]
    return [
        per_call_curve("pairs", "track_metric(uids, metric)", "µs per pair", plan.pairs,
                       lambda n: functools.partial(backend.track_metric, writers[:n], "written", FIRST_DAY), plan),
        per_call_curve("pairs", "get_counts(pairs)", "µs per pair", plan.pairs,
                       lambda n: functools.partial(backend.get_counts, pairs[:n]), plan),
        per_call_curve("pairs", "get_metrics(pairs, week, %d)" % WEEKS, "µs per pair", plan.pairs,
                       lambda n: functools.partial(backend.get_metrics, pairs[:n], FIRST_DAY, WEEKS,
                                                   group_by="week"), plan),
    ]


def bucket_curves(backend: Redis, plan: Sizes) -> List[Curve]:
    return [
        per_call_curve("buckets", read.__name__, "µs per bucket", plan.buckets,
                       lambda n: functools.partial(read, "daily", "visits", FIRST_DAY, limit=n), plan)
        for read in (backend.get_metric_by_day, backend.get_metric_by_week, backend.get_metric_by_month)
    ]


def read_memory_curves(backend: Redis, pairs: Sequence[Tuple[str, str]], plan: Sizes) -> List[Curve]:
    """Tracemalloc's peak during ``get_metrics`` and what its result holds, per returned value."""
    peak = Curve("read_memory", "peak during the call", "bytes per returned value", aim=READ_AIM)
    kept = Curve("read_memory", "kept by the result", "bytes per returned value")
    backend.get_metrics(pairs[:10], FIRST_DAY, WEEKS, group_by="week")  # fills the caches, which later calls share
    for size in plan.read_pairs:
        chosen = pairs[:size]
        peaks, kepts = [], []
        for _ in range(plan.repeats):
            gc.collect()
            tracemalloc.start()
            result = backend.get_metrics(chosen, FIRST_DAY, WEEKS, group_by="week")
            current, top = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            values = sum(len(counts) for _, counts in result)
            del result
            peaks.append(top / values)
            kepts.append(current / values)
        peak.add(size, peaks)
        kept.add(size, kepts)
    print("  read_memory measured", flush=True)
    return [peak, kept]


# -- bulk curves, each repetition in a fresh process ---------------------------------

def _status_bytes(name: str) -> float:
    """A ``/proc/self/status`` memory line in bytes (NaN where there is no /proc)."""
    with contextlib.suppress(OSError):
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(name + ":"):
                    return float(line.split()[1]) * 1024
    return math.nan


def bulk_child(settings: Dict[str, Any], events: int, pool_size: int) -> Tuple[float, float]:
    """In a fresh process: the seconds of one ``track_metrics`` of ``events`` events, and the RSS growth in bytes."""
    pool = event_pool(pool_size)
    with Redis(settings, prefix=PREFIX) as backend:
        backend.ping()  # connects to every node before the clock starts
        with contextlib.suppress(OSError):
            # "5" resets VmHWM to the current RSS: the peak is then this call's.
            with open("/proc/self/clear_refs", "w") as handle:
                handle.write("5")
        before = _status_bytes("VmRSS")
        start = time.perf_counter()
        backend.track_metrics(stream(pool, events))
        elapsed = time.perf_counter() - start
        return elapsed, _status_bytes("VmHWM") - before


def bulk_point(topology: Topology, events: int, plan: Sizes) -> Tuple[List[float], List[float]]:
    """Every repetition's microseconds per event and peak MiB, each on emptied servers."""
    times, peaks = [], []
    for _ in range(plan.repeats):
        topology.flush()
        with multiprocessing.get_context("spawn").Pool(1) as workers:
            seconds, grown = workers.apply(bulk_child, (topology.settings, events, plan.pool))
        times.append(1e6 * seconds / events)
        peaks.append(grown / MIB)
    return times, peaks


def bulk_event_curves(topology: Topology, plan: Sizes) -> List[Curve]:
    cost = Curve("bulk_events", "track_metrics(generator)", "µs per event")
    memory = Curve("bulk_events", "peak RSS growth", "MiB")
    for events in plan.bulk_events:
        times, peaks = bulk_point(topology, events, plan)
        cost.add(events, times)
        memory.add(events, peaks)
    print("  bulk_events measured", flush=True)
    return [cost, memory]


def topology_curve(family: str, counts: Sequence[int], start: Callable[[int], Topology], plan: Sizes) -> Curve:
    """Microseconds per event of the bulk call on ``start(n)``'s servers, for each n of ``counts``."""
    curve = Curve(family, "track_metrics, %s events" % size_label(plan.topology_events), "µs per event")
    for count in counts:
        topology = start(count)
        try:
            curve.add(count, bulk_point(topology, plan.topology_events, plan)[0])
        finally:
            topology.close()
    print("  %s measured" % family, flush=True)
    return curve


def measure(plan: Sizes) -> List[Curve]:
    """Every curve, on servers started here and stopped before returning."""
    curves: List[Curve] = []
    topology = host_topology(1)
    try:
        # The largest read runs under tracemalloc, which slows every allocation
        # several times: longer than the default deadline of a call.
        settings = {"hosts": [dict(host, timeout=READ_TIMEOUT) for host in topology.settings["hosts"]]}
        with Redis(settings, prefix=PREFIX) as backend:
            pairs = [("user%d" % i, "metric%d" % (i % 10)) for i in range(max(max(plan.pairs), max(plan.read_pairs)))]
            load(backend, pairs, max(plan.buckets))
            curves += pair_curves(backend, pairs, plan)
            curves += bucket_curves(backend, plan)
            curves += read_memory_curves(backend, pairs, plan)
        curves += bulk_event_curves(topology, plan)
    finally:
        topology.close()
    curves.append(topology_curve("hosts", plan.hosts, host_topology, plan))
    curves.append(topology_curve("cluster", plan.primaries, cluster_topology, plan))
    return curves


# -- report ----------------------------------------------------------------------

def size_label(size: int) -> str:
    """``"1e4"`` for 10,000: short enough for table columns and plot ticks."""
    exponent = round(math.log10(size))
    return "1e%d" % exponent if size >= 1000 and size == 10 ** exponent else str(size)


def _value(value: float) -> str:
    return "%.3g" % value if value < 1000 else "%.0f" % value


def verdict(curve: Curve) -> str:
    """Whether the largest size costs at most ``FLAT`` times the cheapest earlier size but the first (and the aim)."""
    values = curve.medians
    if any(math.isnan(value) for value in values):
        return "not measured here"
    if len(values) < 2:
        return "one size only: no trend"
    # More hosts are not a fixed cost shared out: there the first size counts too.
    first = 1 if len(values) > 2 and curve.family not in ("hosts", "cluster") else 0
    ref = min(range(first, len(values) - 1), key=lambda index: values[index])
    text = "%s (%s at %s, %s at %s)" % (
        "flat or falling" if values[-1] <= FLAT * values[ref] else "GROWS",
        _value(values[-1]), size_label(curve.sizes[-1]), _value(values[ref]), size_label(curve.sizes[ref]))
    if curve.aim is not None:
        text += "; %s the aim of %s" % ("under" if values[-1] < curve.aim else "OVER", _value(curve.aim))
    return text


def _by_unit(curves: Sequence[Curve], family: str) -> Dict[str, List[Curve]]:
    """A family's curves grouped by unit: one table block and one plot panel each."""
    groups: Dict[str, List[Curve]] = {}
    for curve in curves:
        if curve.family == family:
            groups.setdefault(curve.unit, []).append(curve)
    return groups


def report(curves: Sequence[Curve]) -> str:
    """The medians as text, one block per family and unit, each curve with its verdict."""
    out = []
    for family, (title, x_label) in FAMILIES.items():
        for unit, group in _by_unit(curves, family).items():
            sizes = sorted({size for curve in group for size in curve.sizes})
            width = max(len(curve.name) for curve in group)
            out.append("%s -- %s, by %s" % (title, unit, x_label))
            out.append("  %s  %s" % (" " * width, "".join("%8s" % size_label(size) for size in sizes)))
            for curve in group:
                found = dict(zip(curve.sizes, curve.medians))
                cells = "".join("%8s" % (_value(found[size]) if size in found else "-") for size in sizes)
                out.append("  %s  %s   %s" % (curve.name.ljust(width), cells, verdict(curve)))
            out.append("")
    return "\n".join(out)


def write_csv(curves: Sequence[Curve], path: str) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["family", "curve", "unit", "size", "median", "repetitions"])
        for curve in curves:
            for size, values, median in zip(curve.sizes, curve.runs, curve.medians):
                writer.writerow([curve.family, curve.name, curve.unit, size, "%.6g" % median,
                                 ";".join("%.6g" % value for value in values)])


def require_matplotlib() -> None:
    """Stop at once, before anything is measured, when the plots could not be drawn."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise SystemExit("the plots need matplotlib: pip install 'analytics[bench]'") from None


def plot(curves: Sequence[Curve], directory: str) -> List[str]:
    """One PNG per family (a panel per unit); returns the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullLocator

    written = []
    for family, (title, x_label) in FAMILIES.items():
        groups = _by_unit(curves, family)
        if not groups:
            continue
        figure, axes = plt.subplots(1, len(groups), figsize=(6.4 * len(groups), 4.8), squeeze=False)
        for axis, (unit, group) in zip(axes[0], groups.items()):
            for curve in group:
                axis.plot(curve.sizes, curve.medians, marker="o", label=curve.name)
            sizes = sorted({size for curve in group for size in curve.sizes})
            axis.set_xscale("log")
            axis.set_xticks(sizes, [size_label(size) for size in sizes])
            axis.xaxis.set_minor_locator(NullLocator())
            values = [value for curve in group for value in curve.medians if value > 0]
            # A per-call cost falls by 10-100x from 1 item to many: on a linear
            # axis the tail, where a growth would show, would be a flat line at 0.
            if values and max(values) > 10 * min(values):
                axis.set_yscale("log")
            else:
                axis.set_ylim(bottom=0)
            for aim in {curve.aim for curve in group if curve.aim is not None}:
                axis.axhline(aim, color="grey", linestyle="--", label="aim: under %s" % _value(aim))
            axis.set_xlabel(x_label)
            axis.set_ylabel(unit)
            axis.grid(True, which="both", alpha=0.3)
            axis.legend()
        figure.suptitle(title)
        figure.tight_layout()
        path = os.path.join(directory, family + ".png")
        figure.savefig(path, dpi=100)
        plt.close(figure)
        written.append(path)
    return written


def run(directory: str, quick: bool = False) -> None:
    """Measure every curve (``QUICK`` or ``FULL`` sizes), print the table, write the CSV and the PNGs."""
    require_matplotlib()
    os.makedirs(directory, exist_ok=True)
    plan = QUICK if quick else FULL
    began = time.monotonic()
    print("cost curves (%s sizes, medians of %d):" % ("quick" if quick else "full", plan.repeats), flush=True)
    curves = measure(plan)
    print()
    print(report(curves))
    write_csv(curves, os.path.join(directory, "curves.csv"))
    written = plot(curves, directory)
    print("wrote %s and curves.csv in %s; measured in %.0f s" % (
        ", ".join(os.path.basename(path) for path in written), directory, time.monotonic() - began))


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", help="where the PNGs and curves.csv are written (created if missing)")
    parser.add_argument("--quick", action="store_true", help="small sizes: up to 1,000 pairs and 300,000 events, "
                        "1-3 hosts, a 3-primary cluster, 3 repetitions")
    args = parser.parse_args(argv)
    for line in machine():
        print(line)
    run(args.directory, args.quick)


if __name__ == "__main__":
    main()
