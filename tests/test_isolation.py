"""Backends with different prefixes on the same servers, and ``clear_all`` among 100,000 foreign keys."""
import datetime

import pytest

from analytics.backends.redis import Redis
from conftest import host_settings

DBS = (3, 4, 5)
DAY = datetime.date(2013, 5, 6)
FOREIGN_PER_DB = 34_000  # ~100,000 foreign keys over the three hosts
#: Names that share a beginning with the default prefix or use glob characters.
FOREIGN_NAMES = ["_analyticsfoo:%d", "other:%d", "_analytics_x:%d", "x_analytics:%d", "_ANALYTICS:%d",
                 "_analytics%d", "p1:%d", "p*%d", "_analytic:%d", "[ab]:x%d"]
FOREIGN_SINGLES = ["_analytics", "_analyticsfoo", "_analytics\\:1", "other:1", "p*", "p:", ":"]
OTHER_PREFIXES = ["_analyticsfoo", "p*", "[ab]", "other"]


def keys_by_db(server):
    return {db: set(server.client(db).scan_iter(count=1000)) for db in DBS}


def populate_foreign(server):
    for db in DBS:
        client = server.client(db)
        pipe = client.pipeline(transaction=False)
        for i in range(FOREIGN_PER_DB):
            pipe.set(FOREIGN_NAMES[i % len(FOREIGN_NAMES)] % (db * FOREIGN_PER_DB + i), "x")
            if i % 5000 == 4999:
                pipe.execute()
        for name in FOREIGN_SINGLES:
            pipe.set(name, "x")
        pipe.execute()
        client.close()


def test_prefixes_never_see_each_other(three_hosts):
    mine = Redis(three_hosts)
    others = {prefix: Redis(three_hosts, prefix=prefix) for prefix in OTHER_PREFIXES}
    mine.track_metric(["u1", "u2"], ["clicks", "views"], date=DAY, inc_amt=3)
    for amount, (prefix, other) in enumerate(others.items(), start=10):
        other.track_metric(["u1", "u2"], ["clicks", "views"], date=DAY, inc_amt=amount)
        other.track_count("u1", "only-other", inc_amt=amount)
    assert mine.get_count("u1", "clicks") == 3
    assert mine.get_count("u1", "only-other") == 0
    assert mine.get_metric_by_day("u2", "views", DAY, limit=1)[1] == {"2013-05-06": 3}
    assert mine.get_metric_by_week("u2", "views", DAY, limit=1)[1] == {"2013-05-06": 3}
    assert mine.get_metric_by_month("u2", "views", DAY, limit=1)[1] == {"2013-05-01": 3}
    for amount, other in enumerate(others.values(), start=10):
        assert other.get_counts([("u1", "clicks"), ("u2", "views"), ("u1", "only-other")]) == [amount, amount, amount]
        assert other.get_metric_by_day("u1", "clicks", DAY, limit=1)[1] == {"2013-05-06": amount}
        assert other.get_count("u1", "clicks", DAY, DAY) == amount

    # Clearing one prefix leaves every other prefix's counts as they were.
    others["p*"].clear_all()
    assert others["p*"].get_count("u1", "clicks") == 0
    assert mine.get_count("u1", "clicks") == 3
    assert [o.get_count("u1", "clicks") for p, o in others.items() if p != "p*"] == [10, 12, 13]


def test_clear_all_deletes_exactly_its_keys_with_bounded_scans(flushed):
    server = flushed
    settings = host_settings(server, DBS)
    mine = Redis(settings)
    neighbours = [Redis(settings, prefix=prefix) for prefix in OTHER_PREFIXES]
    uids = ["user%d" % i for i in range(1000)]
    mine.track_metric(uids, "clicks", date=DAY)
    for neighbour in neighbours:
        neighbour.track_metric(uids[:50], "clicks", date=DAY)
    # Own keys off their ring host, and on a host of another kind of placement (C1).
    for db in DBS:
        server.client(db).set("_analytics:stray:%d" % db, "1")
        server.client(db).hset("_analytics:user:stray:analy:13", "x", 1)
    populate_foreign(server)

    before = keys_by_db(server)
    foreign = {db: {key for key in keys if not key.startswith("_analytics:")} for db, keys in before.items()}
    own = sum(len(keys) - len(foreign[db]) for db, keys in before.items())
    assert sum(len(keys) for keys in foreign.values()) >= 100_000
    assert own == 3 * len(uids) + 2 * len(DBS)
    admin = server.client()
    admin.config_resetstat()

    mine.clear_all()

    stats = admin.info("commandstats")
    assert keys_by_db(server) == foreign
    assert "cmdstat_keys" not in stats
    assert "cmdstat_flushdb" not in stats and "cmdstat_flushall" not in stats
    # Bounded pages: walking ~35,000 keys per host a page of about 1,000 at a
    # time takes dozens of SCAN calls per host, not one.
    scans = stats["cmdstat_scan"]["calls"]
    assert scans >= len(DBS) * 30
    assert stats["cmdstat_unlink"]["calls"] == own
    for neighbour in neighbours:
        assert neighbour.get_count("user1", "clicks") == 1
    print("\nclear_all: %d own keys deleted among %d foreign keys with %d SCAN calls"
          % (own, sum(len(keys) for keys in foreign.values()), scans))


@pytest.mark.parametrize("prefix, error", [("", ValueError), (None, TypeError), (b"_analytics", TypeError)])
def test_prefix_cannot_be_empty_or_not_text(three_hosts, prefix, error):
    with pytest.raises(error, match="prefix"):
        Redis(three_hosts, prefix=prefix)


def test_default_prefix_cannot_be_emptied_by_a_subclass(three_hosts):
    class Unprefixed(Redis):
        _prefix = ""

    with pytest.raises(ValueError, match="prefix"):
        Unprefixed(three_hosts)
