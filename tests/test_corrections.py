"""One test group per POLICY correction (C1-C10): the corrected behaviour, hand-computed.

Each expectation below is worked out by hand from the key layout (compat README
4.1) and the calendar, never by calling the code under test.  Contents of Redis
are read back through plain redis-py clients, not through the backend.
"""
import datetime
import random
import threading

import pytest
import compat_replay as cr
from conftest import host_settings

from analytics.backends.redis import Redis
from flavours import make_backend

D = datetime.date
DT = datetime.datetime
THREE_DBS = [3, 4, 5]


@pytest.fixture
def make(flushed, flavour):
    """Builds backends (sync, then asyncio) on the session server (placed like localhost:6379/N); closes them afterwards."""
    opened = []

    def build(dbs=THREE_DBS, **kwargs):
        backend = make_backend(flavour, host_settings(flushed, dbs), **kwargs)
        opened.append(backend)
        return backend

    yield build
    for backend in opened:
        backend.store.close()


def everything(server, dbs=THREE_DBS):
    return [cr.dump_host(server.client(db)) for db in dbs]


def all_keys(server, dbs=THREE_DBS):
    return sorted(key for dump in everything(server, dbs) for key in dump)


# -- C1 clear_all ---------------------------------------------------------------

FOREIGN = ["_analyticsfoo", "foo", "analytics:x", "myapp:analy:u:count:m", "_analytics", "x_analytics:y"]


@pytest.mark.parametrize("dbs", [THREE_DBS, [6]], ids=["three_hosts", "one_host"])
def test_c1_clear_all_deletes_exactly_the_prefixed_keys_everywhere(flushed, make, dbs):
    backend = make(dbs)
    backend.track_metric(["user:1", "user:2", 3], ["a", "b"], D(2012, 5, 5))
    backend.track_count("user:9", "c")
    clients = [flushed.client(db) for db in dbs]
    for client in clients:
        # On every host, ring host or not: clear_all must not rely on routing.
        client.set("_analytics:stray:%d" % client.connection_pool.connection_kwargs["db"], "1")
        for key in FOREIGN:
            client.set(key, "kept")
    backend.clear_all()
    for client in clients:
        assert sorted(client.keys("*")) == sorted(FOREIGN)


def test_c1_clear_all_custom_and_glob_prefixes(flushed, make):
    glob = make(prefix="a*b")
    plain = make(prefix="myapp")
    glob.track_count("u", "m")
    plain.track_count("u", "m")
    client = flushed.client(4)
    client.set("aXb:analy:u:count:m", "1")
    client.set("myappx:other", "1")
    glob.clear_all()
    assert all_keys(flushed) == ["aXb:analy:u:count:m", "myapp:analy:u:count:m", "myappx:other"]
    plain.clear_all()
    assert all_keys(flushed) == ["aXb:analy:u:count:m", "myappx:other"]


def test_c1_clear_all_pages_through_scan_and_never_uses_keys(flushed, make):
    backend = make([6])
    client = flushed.client(6)
    client.mset({"_analytics:bulk:%d" % i: i for i in range(2500)})
    client.mset({"other:%d" % i: i for i in range(300)})
    client.config_resetstat()
    backend.clear_all()
    stats = client.info("commandstats")
    assert "cmdstat_keys" not in stats
    assert stats["cmdstat_scan"]["calls"] >= 2
    assert client.dbsize() == 300


# -- C2 every reply to its own caller --------------------------------------------

def test_c2_duplicate_commands_report_their_own_replies(make):
    backend = make()
    day = D(2012, 3, 1)
    assert backend.track_metric([1234, "1234"], "x", day) == [[1, 1, 1, 1], [2, 2, 2, 2]]
    assert backend.track_metric("u", ["x", "x", "y"], day, inc_amt=5) == [[5, 5, 5, 5], [10, 10, 10, 10], [5, 5, 5, 5]]
    assert backend.track_metric(["u", "u"], ["x", "y"], D(2012, 3, 2)) == [
        [1, 11, 11, 11], [1, 6, 6, 6], [2, 12, 12, 12], [2, 7, 7, 7]]
    assert backend.set_metric_by_day("u", ["z", "z"], D(2012, 3, 3), 4, update_counter=False) == [[1], [0]]
    assert backend.set_metric_by_day("v", ["z", "z"], D(2012, 3, 3), 4) == [[1], [0]]
    # The second write found the day already at 4: the total moved by 4 only.
    assert backend.get_count("v", "z") == 4


# -- C3 iterables read once -------------------------------------------------------

def test_c3_generators_are_read_once_up_front(make):
    backend = make()
    day = D(2012, 9, 10)
    assert backend.track_metric(["u1", "u2"], (m for m in ["a", "b"]), day) == [[1, 1, 1, 1]] * 4
    assert backend.get_counts([("u2", "a"), ("u2", "b")]) == [1, 1]
    assert backend.track_metric((u for u in ["g1", "g2"]), "m", day) == [[1, 1, 1, 1]] * 2
    assert backend.set_metric_by_day(["s3", "s4"], (m for m in ["a", "b"]), D(2012, 9, 11), 3) == [[1]] * 4
    assert backend.set_metric_by_day((u for u in ["s1", "s2"]), "m", D(2012, 9, 11), 3) == [[1]] * 2
    # Synced for every pair: week of Monday 2012-09-10 and September hold the 3.
    for uid, metric in [("s4", "b"), ("s3", "a"), ("s2", "m")]:
        assert backend.get_metric_by_week(uid, metric, D(2012, 9, 10), limit=1) == ({"2012-09-10"}, {"2012-09-10": 3})
        assert backend.get_metric_by_month(uid, metric, D(2012, 9, 1), limit=1) == ({"2012-09-01"}, {"2012-09-01": 3})
        assert backend.get_count(uid, metric) == 3
    backend.sync_agg_metric((u for u in ["s3", "s4"]), (m for m in ["a", "b"]), D(2012, 9, 1), D(2012, 9, 30))
    assert backend.get_metric_by_month("s4", "b", D(2012, 9, 1), limit=1)[1] == {"2012-09-01": 3}


# -- C4 limit --------------------------------------------------------------------

def test_c4_limit_zero_is_empty(make):
    backend = make()
    backend.track_metric("u", "m", D(2012, 2, 29))
    assert backend.get_metric_by_day("u", "m", D(2012, 2, 29), limit=0) == (set(), {})
    assert backend.get_metric_by_week("u", "m", D(2012, 2, 29), limit=0) == (set(), {})
    assert backend.get_metric_by_month("u", "m", D(2012, 2, 29), limit=0) == (set(), {})
    assert backend.get_metrics([("u", "m"), ("v", "n")], D(2012, 2, 29), limit=0, group_by="day") == [(set(), {})] * 2
    assert backend.get_metrics([("u", "m")], D(2012, 2, 29), limit=0) == [(set(), {})]


@pytest.mark.parametrize("limit, error", [(-1, ValueError), (-30, ValueError), ("3", TypeError), (2.0, TypeError),
                                          (None, TypeError), (True, TypeError)])
def test_c4_bad_limits(make, limit, error):
    backend = make()
    for call in (backend.get_metric_by_day, backend.get_metric_by_week, backend.get_metric_by_month):
        with pytest.raises(error):
            call("u", "m", D(2012, 2, 29), limit=limit)
    with pytest.raises(error):
        backend.get_metrics([("u", "m")], D(2012, 2, 29), limit=limit)


# -- C5 group_by -----------------------------------------------------------------

@pytest.mark.parametrize("group_by", ["year", None, "", "days", 7])
def test_c5_unknown_group_by_is_a_value_error(make, group_by):
    backend = make()
    with pytest.raises(ValueError):
        backend.get_metrics([("u", "m")], D(2012, 2, 28), group_by=group_by)
    assert issubclass(ValueError, Exception)


def test_c5_group_by_is_case_insensitive(make):
    backend = make()
    backend.track_metric("u", "m", D(2012, 2, 29), inc_amt=2)
    assert backend.get_metrics([("u", "m")], D(2012, 2, 29), limit=1, group_by="DaY") == [({"2012-02-29"}, {"2012-02-29": 2})]
    assert backend.get_metrics([("u", "m")], D(2012, 2, 29), limit=1, group_by="MONTH") == [({"2012-02-01"}, {"2012-02-01": 2})]


# -- C6 get_count ranges ---------------------------------------------------------

@pytest.fixture
def leap_counts(make):
    backend = make()
    for day, amount in [(D(2011, 12, 31), 3), (D(2012, 1, 15), 1), (D(2012, 2, 10), 2), (D(2012, 2, 28), 1),
                        (D(2012, 2, 29), 5), (D(2012, 3, 1), 2), (D(2012, 3, 5), 4), (D(2012, 4, 1), 7)]:
        backend.track_metric("u", "m", day, inc_amt=amount)
    return backend


def test_c6_one_bound_raises(leap_counts):
    for kwargs in ({"start_date": D(2012, 1, 1)}, {"end_date": D(2012, 1, 31)},
                   {"start_date": None, "end_date": D(2012, 1, 31)}, {"start_date": D(2012, 1, 1), "end_date": None}):
        with pytest.raises(ValueError):
            leap_counts.get_count("u", "m", **kwargs)
        with pytest.raises(ValueError):
            leap_counts.get_counts([("u", "m")], **kwargs)
    assert leap_counts.get_count("u", "m") == 25
    assert leap_counts.get_count("u", "m", start_date=None, end_date=None) == 25


def test_c6_datetimes_count_by_date(leap_counts):
    # 2012-02-28 + 02-29 + 03-01 = 1 + 5 + 2; the end's earlier time of day drops nothing.
    assert leap_counts.get_count("u", "m", start_date=DT(2012, 2, 28, 12), end_date=DT(2012, 3, 1, 6)) == 8
    assert leap_counts.get_count("u", "m", start_date=DT(2012, 3, 1, 6), end_date=DT(2012, 2, 28, 12)) == 8
    # Monthly path (4 month starts): 12-31 + Jan + Feb + Mar + 04-01 = 3 + 1 + 8 + 6 + 7.
    assert leap_counts.get_count("u", "m", start_date=DT(2011, 12, 31, 10), end_date=DT(2012, 4, 1, 9)) == 25
    assert leap_counts.get_count("u", "m", start_date=DT(2012, 4, 1, 23, 59), end_date=DT(2012, 4, 1, 0, 1)) == 7


def test_c6_date_and_datetime_mix(leap_counts):
    assert leap_counts.get_count("u", "m", start_date=D(2012, 2, 28), end_date=DT(2012, 3, 1, 0, 0)) == 8
    assert leap_counts.get_count("u", "m", start_date=DT(2012, 1, 1, 18), end_date=D(2012, 2, 1)) == 1
    assert leap_counts.get_counts([("u", "m"), ("x", "y")], start_date=DT(2012, 2, 29, 1), end_date=D(2012, 2, 29)) == [5, 0]


# -- C7 cross-year weeks ---------------------------------------------------------

def test_c7_set_metric_by_day_on_a_cross_year_week(flushed, make):
    backend = make([6])
    backend.track_metric("u", "m", D(2013, 1, 2), inc_amt=3)
    backend.set_metric_by_day("u", "m", D(2012, 12, 31), 1)
    assert backend.get_metric_by_week("u", "m", D(2012, 12, 31), limit=1) == ({"2012-12-31"}, {"2012-12-31": 4})
    client = flushed.client(6)
    # Each year's hash holds its own days' part of the week: 12-31 in 2012, 01-01..01-06 in 2013.
    assert client.hget("_analytics:user:u:analy:12", "m:12-12-31") == "1"
    assert client.hget("_analytics:user:u:analy:13", "m:12-12-31") == "3"
    backend.track_metric("u", "m", D(2013, 1, 6), inc_amt=2)
    assert backend.get_metric_by_week("u", "m", D(2013, 1, 1), limit=1)[1] == {"2012-12-31": 6}
    backend.sync_week_metric("u", "m", D(2012, 12, 31), D(2013, 1, 6))
    assert backend.get_metric_by_week("u", "m", D(2012, 12, 31), limit=1)[1] == {"2012-12-31": 6}


def test_c7_sync_ranges_across_the_year_end(make):
    backend = make()
    for day, count in [(D(2012, 12, 24), 9), (D(2012, 12, 31), 4), (D(2013, 1, 1), 5), (D(2013, 1, 6), 6),
                       (D(2013, 1, 10), 7)]:
        backend.set_metric_by_day("u", "m", day, count, sync_agg=False)
    backend.sync_agg_metric("u", "m", D(2012, 12, 20), D(2013, 1, 10))
    assert backend.get_metric_by_week("u", "m", D(2012, 12, 24), limit=3)[1] == {
        "2012-12-24": 9, "2012-12-31": 15, "2013-01-07": 7}
    assert backend.get_metrics([("u", "m")], D(2012, 12, 31), limit=1) == [({"2012-12-31"}, {"2012-12-31": 15})]
    assert backend.get_metric_by_month("u", "m", D(2012, 12, 1), limit=2)[1] == {"2012-12-01": 13, "2013-01-01": 18}
    # 2013-12-30's week runs into 2014 as well.
    backend.set_metric_by_day("u", "m", D(2013, 12, 30), 2)
    backend.set_metric_by_day("u", "m", D(2014, 1, 5), 3)
    assert backend.get_metric_by_week("u", "m", D(2014, 1, 1), limit=1)[1] == {"2013-12-30": 5}


# -- C8 bad input ----------------------------------------------------------------

def _bad_calls():
    d = D(2012, 1, 1)
    return [
        ("track_metric", (None, "m", d), {}, ValueError),
        ("track_metric", ("", "m", d), {}, ValueError),
        ("track_metric", ("u", None, d), {}, ValueError),
        ("track_metric", ("u", "", d), {}, ValueError),
        ("track_metric", (["u1", None], "m", d), {}, ValueError),
        ("track_metric", (["u1", "u2"], ["a", ""], d), {}, ValueError),
        ("track_metric", ("u", "m", d), {"inc_amt": "2"}, TypeError),
        ("track_metric", ("u", "m", d), {"inc_amt": 1.5}, TypeError),
        ("track_metric", ("u", "m", d), {"inc_amt": True}, TypeError),
        ("track_metric", ("u", "m", d), {"inc_amt": None}, TypeError),
        ("track_metric", ("u", "m", "2012-01-01"), {}, TypeError),
        ("track_metric", ("u", "m", 20120101), {}, TypeError),
        ("track_count", (None, "m"), {}, ValueError),
        ("track_count", ("u", ""), {}, ValueError),
        ("track_count", ("u", "m"), {"inc_amt": "3"}, TypeError),
        ("set_metric_by_day", ("u", "m", d, "3"), {}, TypeError),
        ("set_metric_by_day", ("u", "m", d, "7"), {"update_counter": False}, TypeError),
        ("set_metric_by_day", (["u1", "u2"], "m", d, None), {}, TypeError),
        ("set_metric_by_day", ("u", "m", d, 2.0), {}, TypeError),
        ("set_metric_by_day", ("u", "m", d, False), {}, TypeError),
        ("set_metric_by_day", ("", "m", d, 3), {}, ValueError),
        ("set_metric_by_day", ("u", "m", "2012-01-01", 3), {}, TypeError),
        ("sync_week_metric", ("u", "m", D(2013, 1, 10), D(2012, 12, 20)), {}, ValueError),
        ("sync_week_metric", ("u", "m", D(2012, 12, 6), D(2012, 12, 1)), {}, ValueError),
        ("sync_month_metric", ("u", "m", D(2013, 1, 10), D(2012, 12, 20)), {}, ValueError),
        ("sync_month_metric", ("u", "m", D(2012, 12, 6), D(2012, 12, 5)), {}, ValueError),
        ("sync_agg_metric", ("u", "m", D(2013, 1, 10), D(2012, 12, 20)), {}, ValueError),
        ("sync_agg_metric", ("u", None, D(2012, 1, 1), D(2012, 2, 1)), {}, ValueError),
        ("sync_agg_metric", ("u", "m", "2012-01-01", D(2012, 2, 1)), {}, TypeError),
    ]


@pytest.mark.parametrize("method, args, kwargs, error", _bad_calls(),
                         ids=lambda value: value if isinstance(value, str) else None)
def test_c8_bad_input_raises_and_writes_nothing(flushed, make, method, args, kwargs, error):
    backend = make()
    backend.track_metric("u", "m", D(2012, 1, 1), inc_amt=2)
    before = everything(flushed)
    with pytest.raises(error):
        getattr(backend, method)(*args, **kwargs)
    assert everything(flushed) == before


@pytest.mark.parametrize("call", [
    lambda b: b.get_metric_by_day(None, "m", D(2012, 1, 1)),
    lambda b: b.get_metric_by_week("u", "", D(2012, 1, 1)),
    lambda b: b.get_count("", "m"),
    lambda b: b.get_counts([("u", None)]),
    lambda b: b.get_metrics([("u", "m")], "2012-01-01"),
])
def test_c8_bad_input_to_reads(make, call):
    with pytest.raises((TypeError, ValueError)):
        call(make())


def test_c8_int_metric_is_one_metric(flushed, make):
    backend = make([6])
    assert backend.track_metric("u", 5, D(2012, 1, 1)) == [[1, 1, 1, 1]]
    assert backend.track_metric(["u1", "u2"], 5, D(2012, 1, 1)) == [[1, 1, 1, 1], [1, 1, 1, 1]]
    assert backend.track_count("u", 5) == 2
    client = flushed.client(6)
    assert client.get("_analytics:analy:u:count:5") == "2"
    # 2012-01-01 is a Sunday: its week's Monday is 2011-12-26, stored in the 2012 hash (K2).
    assert client.hgetall("_analytics:user:u:analy:12") == {"5:11-12-26": "1", "5:12-01": "1"}
    assert client.hgetall("_analytics:user:u:analy:12-01") == {"5:12-01-01": "1"}


# -- C9 duplicate identifiers ----------------------------------------------------

@pytest.mark.parametrize("hosts", [
    [{"db": 3, "identifier": "same"}, {"db": 4, "identifier": "same"}, {"db": 5}],
    [{"db": 3}, {"db": 3}],
    [{"db": 3}, {"db": 3, "port": "6379"}],
    [{"db": 3}, "redis://localhost:6379/3"],
    [{"db": 4, "identifier": "redis://localhost:6379/3"}, {"db": 3}],
])
def test_c9_duplicate_identifiers_refused(hosts):
    with pytest.raises(ValueError):
        Redis({"hosts": hosts})


def test_c9_distinct_identifiers_accepted():
    backend = Redis({"hosts": [{"db": 3, "identifier": "a"}, {"db": 3, "identifier": "b"}]})
    backend.store.close()


# -- C10 set_metric_by_day's counter ---------------------------------------------

def test_c10_counter_serially(make):
    backend = make()
    backend.track_metric("u", "m", D(2012, 4, 5), inc_amt=5)
    backend.track_metric("u", "m", D(2012, 4, 9), inc_amt=1)
    assert backend.set_metric_by_day("u", "m", D(2012, 4, 5), 2) == [[0]]
    assert backend.get_count("u", "m") == 3
    assert backend.set_metric_by_day("u", "m", D(2012, 4, 7), 4) == [[1]]
    assert backend.get_count("u", "m") == 7
    assert backend.set_metric_by_day("u", "m", D(2012, 4, 7), 4) == [[0]]
    assert backend.get_count("u", "m") == 7
    assert backend.set_metric_by_day("u", "m", D(2012, 4, 7), -1, update_counter=False) == [[0]]
    assert backend.get_count("u", "m") == 7


def _race(workers):
    errors = []
    start = threading.Barrier(len(workers))

    def run(work):
        try:
            start.wait()
            work()
        except BaseException as exc:  # reported to the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


def test_c10_no_lost_update_with_threads_on_different_days(make):
    backend = make()
    days = [D(2012, 1, 1) + datetime.timedelta(days=i) for i in range(120)]

    def setter(mine):
        return lambda: [backend.set_metric_by_day("u", "m", day, 1, sync_agg=False) for day in mine]

    _race([setter(days[i::6]) for i in range(6)])
    assert backend.get_count("u", "m") == 120


def test_c10_no_lost_update_with_threads_on_the_same_day(flushed, make):
    backend = make()
    day = D(2012, 2, 29)

    def setter(seed):
        rng = random.Random(seed)
        return lambda: [backend.set_metric_by_day("u", "m", day, rng.randint(0, 50), sync_agg=False) for _ in range(60)]

    def tracker():
        for _ in range(60):
            backend.track_metric("u", "m", day)

    _race([setter(seed) for seed in range(4)] + [tracker, tracker])
    stored = {key: item["value"] for dump in everything(flushed) for key, item in dump.items()}
    # Only that day ever held counts: the all-time total must equal it.
    assert stored["_analytics:analy:u:count:m"] == stored["_analytics:user:u:analy:12-02"]["m:12-02-29"]
    assert backend.get_count("u", "m") == int(stored["_analytics:user:u:analy:12-02"]["m:12-02-29"])
