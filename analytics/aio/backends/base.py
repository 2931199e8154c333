"""The asyncio contract: every public call of :class:`analytics.backends.base.BaseAnalyticsBackend`, as a coroutine.

The calls are the same plans (:mod:`analytics.plans`) behind a door that
awaits them: same names, arguments, defaults, results and exceptions.
"""
from typing import Any, Awaitable, Callable, Optional

from analytics import plans
from analytics.backends import arguments
from analytics.backends.base import CLASS_PREFIX, Concatenate, P, PlanFunction, R, Retention, shape


def door(plan: "PlanFunction[P, R]") -> Callable[Concatenate[Any, P], Awaitable[R]]:
    """A coroutine method running ``plan`` on the backend's asyncio store."""

    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return await self._drive(plan(self._keyspace, *args, **kwargs))

    shape(method, plan)
    return method


def inert_door(plan: "PlanFunction[P, R]") -> Callable[Concatenate[Any, P], Awaitable[None]]:
    """A coroutine method that takes the plan's arguments (unknown keywords raise) and does nothing."""

    async def method(self: Any, *args: Any, **kwargs: Any) -> None:
        plan(self._keyspace, *args, **kwargs).close()
        return None

    shape(method, plan, returns_none=True)
    return method


def _contract(plan: "PlanFunction[P, R]") -> Callable[Concatenate[Any, P], Awaitable[R]]:
    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("%s does not implement %s" % (type(self).__name__, plan.__name__))

    shape(method, plan)
    return method


class AsyncBaseAnalyticsBackend:
    """Base class of asyncio backends: the sync contract, every call awaited.

    Close with ``await backend.aclose()`` or ``async with backend:``.  Takes the
    sync backend's options (``prefix``, ``hours``, ``years``, ``timezone``, ``retention``).
    """

    _prefix = "_analytics"

    def __init__(self, settings: Any = None, *, prefix: str = CLASS_PREFIX, hours: bool = False,
                 years: bool = False, timezone: Optional[str] = None, retention: Optional[Retention] = None):
        self._settings = settings
        self._keyspace = arguments.keyspace(self._prefix if prefix is CLASS_PREFIX else prefix,
                                            hours=hours, years=years, timezone=timezone, retention=retention)
        self._prefix = self._keyspace.prefix
        self._analytics_backend: Any = None

    @property
    def prefix(self) -> str:
        """The key prefix of this backend (every key it writes starts with it and ``":"``)."""
        return self._prefix

    def get_backend(self) -> Any:
        """The asyncio client the backend talks to (for a host list, a ring client whose commands are awaited)."""
        return self._analytics_backend

    async def aclose(self) -> None:
        """Release every connection; using the backend afterwards raises :class:`~analytics.errors.ClosedError`."""

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    track_metric = _contract(plans.track_metric)
    track_metrics = _contract(plans.track_metrics)
    track_count = _contract(plans.track_count)
    set_counts = _contract(plans.set_counts)
    set_metric_by_day = _contract(plans.set_metric_by_day)
    sync_agg_metric = _contract(plans.sync_agg_metric)
    sync_week_metric = _contract(plans.sync_week_metric)
    sync_month_metric = _contract(plans.sync_month_metric)
    clear_all = _contract(plans.clear_all)
    get_metric_by_day = _contract(plans.get_metric_by_day)
    get_metric_by_week = _contract(plans.get_metric_by_week)
    get_metric_by_month = _contract(plans.get_metric_by_month)
    get_metric_by_year = _contract(plans.get_metric_by_year)
    get_metric_by_hour = _contract(plans.get_metric_by_hour)
    get_metrics = _contract(plans.get_metrics)
    get_count = _contract(plans.get_count)
    get_counts = _contract(plans.get_counts)
    track_unique = _contract(plans.track_unique)
    track_uniques = _contract(plans.track_uniques)
    get_unique_by_hour = _contract(plans.get_unique_by_hour)
    get_unique_by_day = _contract(plans.get_unique_by_day)
    get_unique_by_week = _contract(plans.get_unique_by_week)
    get_unique_by_month = _contract(plans.get_unique_by_month)
    get_unique_count = _contract(plans.get_unique_count)
    scan_uids = _contract(plans.scan_uids)
    get_uid_metrics = _contract(plans.get_uid_metrics)
    scan_day_counts = _contract(plans.scan_day_counts)
    scan_counters = _contract(plans.scan_counters)
    ping = _contract(plans.ping)
