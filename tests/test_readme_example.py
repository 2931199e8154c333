"""py-analytics 0.6.x's README "Example Usage" runs unchanged against a real Redis.

The snippet below is the seed README's text, copied verbatim.  Its one line
``>> [....]`` is how that README shows a return value, not Python, so it is the
only line left out when the snippet is run.  The snippet names no server
(``{"db": 5}`` on the built-in default localhost:6379), and the tests never use
port 6379: while it runs, ``analytics.create_analytic_backend`` is a thin wrapper
that hands the real one the same settings plus a ``defaults`` dict pointing at
the session's redis-server, and that records every call the snippet makes so its
results can be checked against values worked out by hand.
"""
import datetime

import analytics
import compat_replay as cr

README_EXAMPLE = '''
from analytics import create_analytic_backend
import datetime

analytics = create_analytic_backend({
    "backend": "analytics.backends.redis.Redis",
    "settings": {
        "hosts": [{"db": 5}]
    },
})

year_ago = datetime.date.today() - datetime.timedelta(days=265)

#create some analytics data
analytics.track_metric("user:1234", "comment", year_ago)
analytics.track_metric("user:1234", "comment", year_ago, inc_amt=3)
#we can even track multiple metrics at the same time for a particular user
analytics.track_metric("user:1234", ["comments", "likes"], year_ago)
#or track the same metric for multiple users (or a combination or both)
analytics.track_metric(["user:1234", "user:4567"], "comment", year_ago)

#retrieve analytics data:
analytics.get_metric_by_day("user:1234", "comment", year_ago, limit=20)
analytics.get_metric_by_week("user:1234", "comment", year_ago, limit=10)
analytics.get_metric_by_month("user:1234", "comment", year_ago, limit=6)

#create a counter
analytics.track_count("user:1245", "login")
analytics.track_count("user:1245", "login", inc_amt=3)

#retrieve multiple metrics at the same time
#group_by is one of ``month``, ``week`` or ``day``
analytics.get_metrics([("user:1234", "login",), ("user:4567", "login",)], year_ago, group_by="day")
>> [....]

#retrieve a count
analytics.get_count("user:1245", "login")

#retrieve a count between 2 dates
analytics.get_count("user:1245", "login", start_date=datetime.date(month=1, day=5, year=2011), end_date=datetime.date(month=5, day=15, year=2011))

#retrieve counts
analytics.get_counts([("user:1245", "login",), ("user:1245", "logout",)])

#clear out everything we created
analytics.clear_all()
'''


class Recorder:
    """Passes every call to the backend and keeps ``(method, result)`` in order."""

    def __init__(self, backend):
        self.backend = backend
        self.calls = []

    def __getattr__(self, name):
        method = getattr(self.backend, name)

        def record(*args, **kwargs):
            result = method(*args, **kwargs)
            self.calls.append((name, result))
            return result

        return record


def _series(first, step, count, first_value):
    labels = [(first + step * i).isoformat() for i in range(count)]
    return set(labels), {label: (first_value if i == 0 else 0) for i, label in enumerate(labels)}


def _months(first, count, first_value):
    labels = []
    year, month = first.year, first.month
    for _ in range(count):
        labels.append(datetime.date(year, month, 1).isoformat())
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return set(labels), {label: (first_value if i == 0 else 0) for i, label in enumerate(labels)}


def _code_lines():
    return [line for line in README_EXAMPLE.splitlines() if line.strip() != ">> [....]"]


def _run(server, monkeypatch, lines):
    """Exec ``lines`` with the wrapper in place; returns (the backends built, the snippet's namespace)."""
    built = []
    real = analytics.create_analytic_backend

    def create_analytic_backend(config):
        settings = dict(config["settings"], defaults={"host": "127.0.0.1", "port": server.port})
        backend = real(dict(config, settings=settings))
        built.append(backend)
        return Recorder(backend)

    monkeypatch.setattr(analytics, "create_analytic_backend", create_analytic_backend)
    namespace = {"__name__": "readme_example"}
    try:
        exec(compile("\n".join(lines), "README Example Usage", "exec"), namespace)
    finally:
        for backend in built:
            backend.store.close()
    return built, namespace


def test_readme_example_runs_unchanged(flushed, monkeypatch):
    built, namespace = _run(flushed, monkeypatch, _code_lines())
    seen = {db: cr.dump_host(flushed.client(db)) for db in range(16)}
    assert len(built) == 1
    connection = built[0].store.nodes[0].client.connection_pool.connection_kwargs
    assert (connection["host"], connection["port"], connection["db"]) == ("127.0.0.1", flushed.port, 5)
    assert all(not dump for dump in seen.values()), "clear_all() left keys behind"

    year_ago = datetime.date.today() - datetime.timedelta(days=265)
    monday = year_ago - datetime.timedelta(days=year_ago.weekday())
    day = datetime.timedelta(days=1)
    expected = [
        ("track_metric", [[1, 1, 1, 1]]),
        ("track_metric", [[4, 4, 4, 4]]),
        ("track_metric", [[1, 1, 1, 1], [1, 1, 1, 1]]),
        ("track_metric", [[5, 5, 5, 5], [1, 1, 1, 1]]),
        ("get_metric_by_day", _series(year_ago, day, 20, 5)),
        ("get_metric_by_week", _series(monday, 7 * day, 10, 5)),
        ("get_metric_by_month", _months(year_ago, 6, 5)),
        ("track_count", 1),
        ("track_count", 4),
        ("get_metrics", [_series(year_ago, day, 10, 0)] * 2),
        ("get_count", 4),
        ("get_count", 0),
        ("get_counts", [4, 0]),
        ("clear_all", None),
    ]
    assert namespace["analytics"].calls == expected


def test_readme_example_data_before_clear_all(flushed, monkeypatch):
    """The same snippet, stopped before its last line: what it stored, key by key (schema of README 4.1)."""
    lines = _code_lines()
    assert lines[-1] == "analytics.clear_all()"
    _run(flushed, monkeypatch, lines[:-1])
    assert all(not cr.dump_host(flushed.client(db)) for db in range(16) if db != 5)
    y = datetime.date.today() - datetime.timedelta(days=265)
    w = y - datetime.timedelta(days=y.weekday())
    dd, ww, mm = y.strftime("%y-%m-%d"), w.strftime("%y-%m-%d"), y.strftime("%y-%m")

    def fields(*pairs):
        return {"type": "hash", "value": {field: str(value) for field, value in pairs}}

    def counter(value):
        return {"type": "string", "value": str(value)}

    assert cr.dump_host(flushed.client(5)) == {
        "_analytics:user:user:1234:analy:%s" % mm: fields(("comment:" + dd, 5), ("comments:" + dd, 1), ("likes:" + dd, 1)),
        "_analytics:user:user:1234:analy:%s" % y.strftime("%y"): fields(
            ("comment:" + ww, 5), ("comment:" + mm, 5), ("comments:" + ww, 1), ("comments:" + mm, 1),
            ("likes:" + ww, 1), ("likes:" + mm, 1)),
        "_analytics:user:user:4567:analy:%s" % mm: fields(("comment:" + dd, 1)),
        "_analytics:user:user:4567:analy:%s" % y.strftime("%y"): fields(("comment:" + ww, 1), ("comment:" + mm, 1)),
        "_analytics:analy:user:1234:count:comment": counter(5),
        "_analytics:analy:user:1234:count:comments": counter(1),
        "_analytics:analy:user:1234:count:likes": counter(1),
        "_analytics:analy:user:4567:count:comment": counter(1),
        "_analytics:analy:user:1245:count:login": counter(4),
    }
