"""Random sequences of writes checked against a plain in-memory model (hypothesis).

The model keeps only day counts and all-time totals; weeks, months and ranges
are derived here from the day counts with their own calendar arithmetic.  Writes
keep the stored aggregates consistent (track_metric updates them, and
set_metric_by_day is called with sync_agg=True), so every read must agree with
the model, also for weeks that run into January and around leap days (C7).
"""
import collections
import datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import host_settings

from flavours import make_backend

D = datetime.date
ONE_DAY = datetime.timedelta(days=1)


#: Where calendars go wrong: weeks that run into January (2012-12-31, 2013-12-30,
#: 2014-12-29, 2015-12-28), leap days, a Sunday that starts a year.
ANCHORS = [D(2012, 12, 31), D(2013, 12, 30), D(2014, 12, 29), D(2015, 12, 28), D(2012, 2, 29), D(2016, 2, 29),
           D(2012, 1, 1)]
# 7 and "7" are the same uid (K4).
uids = st.sampled_from(["u", "u", "u", 7, "7", "üser"])
metrics = st.sampled_from(["m", "m", "m", "n"])


def near(anchor):
    """Days mostly within a week or two of ``anchor``, so that writes meet in one week or month."""
    close = st.integers(-3, 7).map(lambda offset: anchor + datetime.timedelta(days=offset))
    return st.one_of(close, close, close, st.dates(D(2011, 11, 1), D(2016, 3, 31)))


def writes(days):
    return st.one_of(
        st.tuples(st.just("track"), uids, metrics, days, st.integers(-3, 6)),
        st.tuples(st.just("count"), uids, metrics, st.integers(-2, 9)),
        st.tuples(st.just("set"), uids, metrics, days, st.integers(-5, 40), st.booleans()),
    )


def reads(days):
    pairs = st.lists(st.tuples(uids, metrics), max_size=3)
    return st.one_of(
        st.tuples(st.just("day"), uids, metrics, days, st.integers(0, 12)),
        st.tuples(st.just("week"), uids, metrics, days, st.integers(0, 5)),
        st.tuples(st.just("month"), uids, metrics, days, st.integers(0, 4)),
        st.tuples(st.just("metrics"), pairs, days, st.integers(0, 4), st.sampled_from(["day", "week", "month"])),
        st.tuples(st.just("count"), uids, metrics),
        st.tuples(st.just("range"), uids, metrics, days, days),
        st.tuples(st.just("counts"), pairs, st.one_of(st.none(), st.tuples(days, days))),
    )


def histories(anchor):
    days = near(anchor)
    return st.tuples(st.lists(writes(days), min_size=1, max_size=15), st.lists(reads(days), min_size=1, max_size=10))


class Model:
    """Day counts and all-time totals; everything else is derived."""

    def __init__(self):
        self.day = collections.defaultdict(int)
        self.total = collections.defaultdict(int)

    def apply(self, write):
        kind, uid, metric = write[0], str(write[1]), write[2]
        if kind == "track":
            self.day[uid, metric, write[3]] += write[4]
            self.total[uid, metric] += write[4]
        elif kind == "count":
            self.total[uid, metric] += write[3]
        else:
            when, count, update_counter = write[3], write[4], write[5]
            if update_counter:
                self.total[uid, metric] += count - self.day[uid, metric, when]
            self.day[uid, metric, when] = count

    def span(self, uid, metric, first, last):
        return sum(count for (u, m, when), count in self.day.items()
                   if u == uid and m == metric and first <= when <= last)

    def series(self, uid, metric, start, limit, group):
        uid = str(uid)
        labels, values = [], []
        if group == "day":
            for i in range(limit):
                when = start + datetime.timedelta(days=i)
                labels.append(when)
                values.append(self.day.get((uid, metric, when), 0))
        elif group == "week":
            monday = start - datetime.timedelta(days=start.weekday())
            for i in range(limit):
                first = monday + datetime.timedelta(weeks=i)
                labels.append(first)
                values.append(self.span(uid, metric, first, first + 6 * ONE_DAY))
        else:
            year, month = start.year, start.month
            for _ in range(limit):
                first = D(year, month, 1)
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
                labels.append(first)
                values.append(self.span(uid, metric, first, D(year, month, 1) - ONE_DAY))
        text = [label.isoformat() for label in labels]
        return set(text), dict(zip(text, values))

    def count(self, uid, metric, bounds=None):
        if bounds is None:
            return self.total[str(uid), metric]
        first, last = sorted(bounds)
        return self.span(str(uid), metric, first, last)


def ask(backend, read):
    kind = read[0]
    if kind in ("day", "week", "month"):
        return getattr(backend, "get_metric_by_" + kind)(read[1], read[2], read[3], limit=read[4])
    if kind == "metrics":
        return backend.get_metrics(read[1], read[2], limit=read[3], group_by=read[4])
    if kind == "count":
        return backend.get_count(read[1], read[2])
    if kind == "range":
        return backend.get_count(read[1], read[2], start_date=read[3], end_date=read[4])
    if read[2] is None:
        return backend.get_counts(read[1])
    return backend.get_counts(read[1], start_date=read[2][0], end_date=read[2][1])


def expect(model, read):
    kind = read[0]
    if kind in ("day", "week", "month"):
        return model.series(read[1], read[2], read[3], read[4], kind)
    if kind == "metrics":
        return [model.series(uid, metric, read[2], read[3], read[4]) for uid, metric in read[1]]
    if kind == "count":
        return model.count(read[1], read[2])
    if kind == "range":
        return model.count(read[1], read[2], (read[3], read[4]))
    return [model.count(uid, metric, read[2]) for uid, metric in read[1]]


@pytest.fixture(scope="module", params=["sync", "async"])
def model_backend(redis_server, request):
    backend = make_backend(request.param, host_settings(redis_server, [3, 4, 5]))
    yield redis_server, backend
    backend.store.close()


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=st.sampled_from(ANCHORS).flatmap(histories))
@example(history=([("track", "u", "m", D(2013, 1, 2), 3), ("set", "u", "m", D(2012, 12, 31), 1, True)],
                  [("week", "u", "m", D(2012, 12, 31), 1)]))
def test_reads_agree_with_the_model(model_backend, history):
    server, backend = model_backend
    ops, queries = history
    server.client().flushall()
    model = Model()
    for write in ops:
        if write[0] == "track":
            backend.track_metric(write[1], write[2], write[3], inc_amt=write[4])
        elif write[0] == "count":
            backend.track_count(write[1], write[2], inc_amt=write[3])
        else:
            backend.set_metric_by_day(write[1], write[2], write[3], write[4], sync_agg=True, update_counter=write[5])
        model.apply(write)
    for read in queries:
        assert ask(backend, read) == expect(model, read), read
    # Every pair's whole history, by week and by month, and ranges ending and starting on each touched day.
    touched = sorted({key[2] for key in model.day}) or [D(2012, 1, 1)]
    pairs = [(uid, metric) for uid in ("u", "7", "üser") for metric in ("m", "n")]
    for day in touched:
        for bounds in ((touched[0], day), (day, touched[-1])):
            assert backend.get_counts(pairs, start_date=bounds[0], end_date=bounds[1]) == [
                model.count(uid, metric, bounds) for uid, metric in pairs], bounds
    for uid, metric in pairs:
        weeks = (touched[-1] - touched[0]).days // 7 + 2
        assert backend.get_metric_by_week(uid, metric, touched[0], limit=weeks) == model.series(
            uid, metric, touched[0], weeks, "week")
        months = (touched[-1].year - touched[0].year) * 12 + touched[-1].month - touched[0].month + 1
        assert backend.get_metric_by_month(uid, metric, touched[0], limit=months) == model.series(
            uid, metric, touched[0], months, "month")
        assert backend.get_count(uid, metric) == model.count(uid, metric)
