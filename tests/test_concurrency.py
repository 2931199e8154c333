"""One backend shared by threads, built before ``fork`` and used by the children.

8 processes x 4 threads track events on overlapping counters (few uids and
metrics, days around a month end, a year end and a leap day) against three real
Redis databases placed by the ring.  The expected totals come from an in-memory
model built here from the same seeded event streams, with its own calendar
arithmetic, not from the library.
"""
import collections
import datetime
import os
import random
import sys
import threading
import time
import traceback

from analytics.backends.redis import Redis

PROCESSES = 8
THREADS = 4
#: Events per process (each thread tracks a quarter): 80,000 calls in all.
EVENTS_PER_PROCESS = 10_000
UIDS = ["u1", "u2", 3]
METRICS = ["clicks", "views"]
DAYS = [datetime.date(2012, 12, 30) + datetime.timedelta(days=i) for i in range(5)] + [
    datetime.date(2012, 2, 27) + datetime.timedelta(days=i) for i in range(5)
]


def events(process: int, thread: int):
    """The (uid, metric, day, amount, all_time_only) events of one thread, reproducible from its seed."""
    rng = random.Random(process * 1000 + thread)
    for _ in range(EVENTS_PER_PROCESS // THREADS):
        yield (rng.choice(UIDS), rng.choice(METRICS), rng.choice(DAYS), rng.randint(1, 3), rng.random() < 0.1)


def expected_totals():
    """Day, week (keyed by Monday), month (keyed by first) and all-time totals of every event."""
    day, week, month, total = (collections.Counter() for _ in range(4))
    for process in range(PROCESSES):
        for thread in range(THREADS):
            for uid, metric, when, amount, all_time_only in events(process, thread):
                pair = (str(uid), metric)
                total[pair] += amount
                if all_time_only:
                    continue
                day[pair + (when.isoformat(),)] += amount
                monday = when - datetime.timedelta(days=when.isoweekday() - 1)
                week[pair + (monday.isoformat(),)] += amount
                month[pair + ("%04d-%02d-01" % (when.year, when.month),)] += amount
    return day, week, month, total


def run_child(backend: Redis, process: int) -> None:
    failures = []

    def work(thread: int) -> None:
        try:
            for uid, metric, when, amount, all_time_only in events(process, thread):
                if all_time_only:
                    backend.track_count(uid, metric, inc_amt=amount)
                else:
                    backend.track_metric(uid, metric, date=when, inc_amt=amount)
        except BaseException:
            failures.append(traceback.format_exc())

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        sys.stderr.write("process %d: %s\n" % (process, failures[0]))
        raise RuntimeError("a thread failed")


def test_threads_in_forked_processes_count_exactly(three_hosts):
    backend = Redis(three_hosts)
    # Open pooled connections in the parent first: the children must not reuse its sockets.
    assert backend.get_count("u1", "clicks") == 0
    started = time.monotonic()
    children = []
    for process in range(PROCESSES):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                run_child(backend, process)
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        children.append(pid)
    codes = []
    for pid in children:
        _, status = os.waitpid(pid, 0)
        codes.append(os.waitstatus_to_exitcode(status))
    elapsed = time.monotonic() - started
    assert codes == [0] * PROCESSES

    day, week, month, total = expected_totals()
    assert sum(total.values()) > PROCESSES * EVENTS_PER_PROCESS  # amounts are 1-3 each
    checked = 0
    for uid in UIDS:
        for metric in METRICS:
            pair = (str(uid), metric)
            for start in (datetime.date(2012, 2, 27), datetime.date(2012, 12, 30)):
                _, by_day = backend.get_metric_by_day(uid, metric, start, limit=5)
                assert by_day == {d: day[pair + (d,)] for d in by_day}
                _, by_week = backend.get_metric_by_week(uid, metric, start, limit=2)
                assert by_week == {w: week[pair + (w,)] for w in by_week}
                _, by_month = backend.get_metric_by_month(uid, metric, start, limit=2)
                assert by_month == {m: month[pair + (m,)] for m in by_month}
                checked += len(by_day) + len(by_week) + len(by_month)
            assert backend.get_count(uid, metric) == total[pair]
            checked += 1
    backend.store.close()
    print("\n%d processes x %d threads, %d events, %.1f s, %d buckets checked"
          % (PROCESSES, THREADS, PROCESSES * EVENTS_PER_PROCESS, elapsed, checked))


def test_one_backend_many_threads_set_metric_by_day(three_hosts):
    """set_metric_by_day from many threads at once moves the all-time count by exactly the sum of changes (C10)."""
    workers = 16
    backend = Redis(three_hosts)
    when = datetime.date(2013, 1, 1)
    barrier = threading.Barrier(workers)
    failures = []

    def work(index: int) -> None:
        try:
            barrier.wait()
            for round_ in range(50):
                backend.track_metric("u", "m", date=when, inc_amt=1)
                backend.set_metric_by_day("u", "m", when, index * 100 + round_, sync_agg=False)
        except BaseException:
            failures.append(traceback.format_exc())

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    # Whatever order the threads ran in, the day holds the last value written or
    # that value plus later increments, and the all-time count equals the day
    # count: every change to the day moved the counter by the same amount.
    _, by_day = backend.get_metric_by_day("u", "m", when, limit=1)
    assert backend.get_count("u", "m") == by_day["2013-01-01"]
    backend.store.close()
