"""Every public call of the Redis backend, written once as a plan.

A plan checks all of its arguments, then yields steps (:mod:`~analytics.plans.steps`)
and receives their answers, and returns the call's result.  It imports nothing
that does I/O, so it runs unchanged on the sync store, on the asyncio store,
and in unit tests that answer its steps by hand::

    plan = reads.get_count(Keyspace("_analytics"), "user:1", "comments")
    step = next(plan)            # Batch([("GET", "_analytics:analy:user:1:count:comments")])
    plan.send(["7"])             # StopIteration(7)

The doors (:class:`analytics.backends.redis.Redis`,
:class:`analytics.aio.backends.redis.Redis`) turn each plan into a method.
"""
from analytics.plans.keyspace import clear_all, get_uid_metrics, ping, scan_counters, scan_day_counts, scan_uids
from analytics.plans.reads import (
    get_count, get_counts, get_metric_by_day, get_metric_by_hour, get_metric_by_month, get_metric_by_week,
    get_metric_by_year, get_metrics,
)
from analytics.plans.steps import Batch, Broadcast, Keyspace, Plan, Scan, ScanPage, Take
from analytics.plans.uniques import (
    get_unique_by_day, get_unique_by_hour, get_unique_by_month, get_unique_by_week, get_unique_count, track_unique,
    track_uniques,
)
from analytics.plans.writes import (
    set_counts, set_metric_by_day, sync_agg_metric, sync_month_metric, sync_week_metric, track_count, track_metric,
    track_metrics,
)

#: The public calls, by name: what every backend (sync, asyncio, dummy) offers.
CALLS = {
    plan.__name__: plan
    for plan in (
        track_metric, track_metrics, track_count, set_counts, set_metric_by_day, sync_agg_metric, sync_week_metric,
        sync_month_metric, clear_all, get_metric_by_day, get_metric_by_week, get_metric_by_month,
        get_metric_by_year, get_metric_by_hour, get_metrics, get_count, get_counts, track_unique, track_uniques,
        get_unique_by_hour, get_unique_by_day, get_unique_by_week, get_unique_by_month, get_unique_count,
        scan_uids, get_uid_metrics, scan_day_counts, scan_counters, ping,
    )
}

__all__ = ["Batch", "Broadcast", "CALLS", "Keyspace", "Plan", "Scan", "ScanPage", "Take"] + sorted(CALLS)
