"""The same writes give the same reads on every storage form.

One host, a host list, an application's own ``redis.Redis`` (decoding replies
or not), Redis Cluster from a URL and an application's own ``RedisCluster``
all replay one script of writes; every read must equal what an independent
in-memory model of the counters says (day counts and all-time totals, summed
by hand into weeks, months and ranges).
"""
import calendar
import datetime
import random

import pytest
import redis
from redis.cluster import ClusterNode, RedisCluster

from conftest import host_settings

from analytics.backends.redis import Redis

pytestmark = pytest.mark.cluster

D = datetime.date
UIDS = ["user:1", 42, "\u00fc ber"]
METRICS = ["views", "clicks"]


class Model:
    """Day counts and all-time totals, kept with plain dicts."""

    def __init__(self):
        self.days = {}
        self.totals = {}

    def track(self, uid, metric, day, amount):
        key = (str(uid), metric)
        self.days[key + (day,)] = self.days.get(key + (day,), 0) + amount
        self.totals[key] = self.totals.get(key, 0) + amount

    def count(self, uid, metric, amount):
        key = (str(uid), metric)
        self.totals[key] = self.totals.get(key, 0) + amount

    def set_day(self, uid, metric, day, value):
        key = (str(uid), metric)
        old = self.days.get(key + (day,), 0)
        self.days[key + (day,)] = value
        self.totals[key] = self.totals.get(key, 0) + value - old

    def day(self, uid, metric, day):
        return self.days.get((str(uid), metric, day), 0)

    def span(self, uid, metric, first, last):
        total, day = 0, first
        while day <= last:
            total += self.day(uid, metric, day)
            day += datetime.timedelta(days=1)
        return total

    def by_day(self, uid, metric, start, limit):
        days = [start + datetime.timedelta(days=i) for i in range(limit)]
        return ({d.isoformat() for d in days}, {d.isoformat(): self.day(uid, metric, d) for d in days})

    def by_week(self, uid, metric, start, limit):
        monday = start - datetime.timedelta(days=start.weekday())
        weeks = [monday + datetime.timedelta(weeks=i) for i in range(limit)]
        return ({w.isoformat() for w in weeks},
                {w.isoformat(): self.span(uid, metric, w, w + datetime.timedelta(days=6)) for w in weeks})

    def by_month(self, uid, metric, start, limit):
        firsts = []
        year, month = start.year, start.month
        for _ in range(limit):
            firsts.append(D(year, month, 1))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        last = {f: D(f.year, f.month, calendar.monthrange(f.year, f.month)[1]) for f in firsts}
        return ({f.isoformat() for f in firsts}, {f.isoformat(): self.span(uid, metric, f, last[f]) for f in firsts})


def write_script(backend, model):
    """Tracks a fixed pseudo-random set of events (seeded), then overwrites and resyncs some days."""
    rng = random.Random(20121231)
    dates = [D(2012, 12, 20) + datetime.timedelta(days=i) for i in range(28)] + [
        D(2012, 2, 27), D(2012, 2, 28), D(2012, 2, 29), D(2012, 3, 1), D(2012, 3, 5)]
    for _ in range(40):
        uid, metric, day, amount = rng.choice(UIDS), rng.choice(METRICS), rng.choice(dates), rng.randint(1, 5)
        backend.track_metric(uid, metric, day, inc_amt=amount)
        model.track(uid, metric, day, amount)
    backend.track_metric(UIDS, METRICS, D(2013, 1, 1), inc_amt=3)
    for uid in UIDS:
        for metric in METRICS:
            model.track(uid, metric, D(2013, 1, 1), 3)
    backend.track_count("user:1", "logins", 7)
    model.count("user:1", "logins", 7)
    backend.set_metric_by_day("user:1", "views", D(2012, 12, 31), 50)
    model.set_day("user:1", "views", D(2012, 12, 31), 50)
    backend.set_metric_by_day([42, "\u00fc ber"], "clicks", D(2012, 2, 29), 9)
    for uid in (42, "\u00fc ber"):
        model.set_day(uid, "clicks", D(2012, 2, 29), 9)
    backend.sync_agg_metric(UIDS, METRICS, D(2012, 12, 1), D(2013, 1, 31))


def read_back(backend):
    """Every read the script's data supports, as one comparable list."""
    reads = []
    for uid in UIDS:
        for metric in METRICS:
            reads.append(backend.get_metric_by_day(uid, metric, D(2012, 12, 20), 30))
            reads.append(backend.get_metric_by_week(uid, metric, D(2012, 12, 19), 5))
            reads.append(backend.get_metric_by_month(uid, metric, D(2012, 11, 1), 4))
            reads.append(backend.get_metric_by_month(uid, metric, D(2012, 2, 1), 2))
            reads.append(backend.get_count(uid, metric))
            reads.append(backend.get_count(uid, metric, start_date=D(2012, 12, 28), end_date=D(2013, 1, 3)))
            reads.append(backend.get_count(uid, metric, start_date=D(2012, 11, 15), end_date=D(2013, 2, 10)))
            reads.append(backend.get_count(uid, metric, start_date=D(2012, 2, 28), end_date=D(2012, 3, 1)))
    pairs = [(uid, metric) for uid in UIDS for metric in METRICS] + [("user:1", "logins")]
    reads.append(backend.get_counts(pairs))
    reads.append(backend.get_metrics(pairs, D(2012, 12, 24), 3, "week"))
    reads.append(backend.get_metrics(pairs[:2], D(2012, 12, 30), 4, "day"))
    return reads


def expected_reads(model):
    reads = []
    for uid in UIDS:
        for metric in METRICS:
            reads.append(model.by_day(uid, metric, D(2012, 12, 20), 30))
            reads.append(model.by_week(uid, metric, D(2012, 12, 19), 5))
            reads.append(model.by_month(uid, metric, D(2012, 11, 1), 4))
            reads.append(model.by_month(uid, metric, D(2012, 2, 1), 2))
            reads.append(model.totals.get((str(uid), metric), 0))
            reads.append(model.span(uid, metric, D(2012, 12, 28), D(2013, 1, 3)))
            reads.append(model.span(uid, metric, D(2012, 11, 15), D(2013, 2, 10)))
            reads.append(model.span(uid, metric, D(2012, 2, 28), D(2012, 3, 1)))
    pairs = [(uid, metric) for uid in UIDS for metric in METRICS] + [("user:1", "logins")]
    reads.append([model.totals.get((str(uid), metric), 0) for uid, metric in pairs])
    reads.append([model.by_week(uid, metric, D(2012, 12, 24), 3) for uid, metric in pairs])
    reads.append([model.by_day(uid, metric, D(2012, 12, 30), 4) for uid, metric in pairs[:2]])
    return reads


FORMS = ["single host", "host list", "own redis.Redis", "own redis.Redis, bytes replies",
         "cluster url", "own RedisCluster, bytes replies"]


@pytest.fixture
def build(redis_server, cluster):
    """Makes the backend of a form on emptied databases/nodes; closes what it opened."""
    opened = []

    def make(form):
        for db in range(7, 13):
            redis_server.client(db).flushdb()
        if form == "single host":
            backend = Redis(host_settings(redis_server, [7], identifiers=False))
        elif form == "host list":
            backend = Redis(host_settings(redis_server, [8, 9, 10], identifiers=False))
        elif form == "own redis.Redis":
            backend = Redis({"client": redis_server.client(11)})
        elif form == "own redis.Redis, bytes replies":
            backend = Redis({"client": redis.Redis(host="127.0.0.1", port=redis_server.port, db=12)})
        elif form == "cluster url":
            backend = Redis({"cluster": cluster.url(1)})
        else:
            backend = Redis({"client": RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", cluster.ports[0])])})
        opened.append(backend)
        return backend

    yield make
    for backend in opened:
        backend.store.close()


@pytest.mark.parametrize("form", FORMS)
def test_same_writes_give_the_reads_of_the_model(build, form):
    backend = build(form)
    model = Model()
    write_script(backend, model)
    assert read_back(backend) == expected_reads(model)


def test_the_model_is_not_trivial():
    """The script really exercises cross-year weeks, leap days and overwritten days."""
    model = Model()

    class Recorder:
        def __getattr__(self, name):
            return lambda *args, **kwargs: None

    write_script(Recorder(), model)
    assert model.day("user:1", "views", D(2012, 12, 31)) == 50
    assert model.day(42, "clicks", D(2012, 2, 29)) == 9
    assert model.span("user:1", "views", D(2012, 12, 31), D(2013, 1, 6)) > 50
    assert len({key[:2] for key in model.days}) == 6
