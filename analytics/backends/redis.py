"""The Redis backend: py-analytics 0.6.x's API, keys and results on Python 3.

Each public method is a door onto its plan in :mod:`analytics.plans`, where
the call's logic lives, written once: the plan checks the arguments (nothing
is sent when they are wrong), names the keys and buckets, and yields batches;
this backend's sync store routes each batch to one pipeline per Redis node, all
in flight at once, and sends the replies back into the plan.  Calls that must
read before they write (``set_metric_by_day`` and the ``sync_*`` calls) send
two batches.  :class:`analytics.aio.backends.redis.Redis` runs the same plans
on ``redis.asyncio``.
"""
from typing import Any, Mapping, Optional

from analytics.backends.base import CLASS_PREFIX, BaseAnalyticsBackend, Retention, door, doors
from analytics.backends.legacy import LegacyHelpers
from analytics.stores.routing import run_plan
from analytics.stores.settings import build_store
from analytics.stores.sync import SyncStore


@doors(door)
class Redis(LegacyHelpers, BaseAnalyticsBackend):
    """Counters in Redis: one host, a host list placed like 0.6.x's, or Redis Cluster.

    ``settings`` is 0.6.x's ``{"hosts": [...], "defaults": {...}}``, or
    ``{"cluster": ...}``, or ``{"client": redis_client}`` (see the README).
    The settings are checked here, before any connection is opened.  Use it
    as a context manager, or call :meth:`close`, to release its connections.
    """

    def __init__(self, settings: Mapping[str, Any], *, prefix: str = CLASS_PREFIX, hours: bool = False,
                 years: bool = False, timezone: Optional[str] = None, retention: Optional[Retention] = None):
        super().__init__(settings, prefix=prefix, hours=hours, years=years, timezone=timezone,
                         retention=retention)
        self.store: SyncStore = build_store(settings)
        self._analytics_backend = self.store.native()

    def _drive(self, plan: Any) -> Any:
        return self.store.run(run_plan(self.store.topology, plan))

    def close(self) -> None:
        """Close every connection this backend opened; using it afterwards raises :class:`~analytics.errors.ClosedError`."""
        self.store.close()

    def __enter__(self) -> "Redis":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
