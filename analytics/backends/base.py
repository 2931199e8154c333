"""The API every analytics backend offers (the contract of py-analytics 0.6.x), and its doors.

Every public call is a plan in :mod:`analytics.plans`: its signature, checks,
docstring and logic are there, once.  A backend class turns each plan into a
method with :func:`door` (sync), :func:`analytics.aio.backends.base.door`
(asyncio) or :func:`inert_door` (the Dummy backends), installed by the
:func:`doors` class decorator, so every backend takes the very same
arguments: a misspelt keyword is a ``TypeError`` naming it, in each.
"""
import datetime
import inspect
import typing
from typing import Any, Callable, Concatenate, Dict, Generator, Mapping, Optional, ParamSpec, Set, Tuple, TypeVar, Union

from analytics import plans
from analytics.backends import arguments
from analytics.plans.steps import Keyspace


Date = Union[datetime.date, datetime.datetime]
#: The ``retention`` option: kind -> how long its buckets are kept after they end (``None``: forever).
Retention = Mapping[str, Optional[datetime.timedelta]]
#: ``(set of "YYYY-MM-DD", {"YYYY-MM-DD": count})``
Series = Tuple[Set[str], Dict[str, int]]

P = ParamSpec("P")
R = TypeVar("R")
PlanFunction = Callable[Concatenate[Keyspace, P], Generator[Any, Any, R]]


def shape(method: Callable[..., Any], plan: Callable[..., Any], returns_none: bool = False) -> None:
    """Give a door its plan's name, docstring and signature (less the keyspace, returning the plan's result)."""
    method.__name__ = plan.__name__
    method.__qualname__ = plan.__name__
    method.__doc__ = plan.__doc__
    signature = inspect.signature(plan)
    result = typing.get_args(signature.return_annotation)
    method.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + list(signature.parameters.values())[1:],
        return_annotation=None if returns_none else (result[2] if len(result) == 3 else inspect.Signature.empty))


def door(plan: "PlanFunction[P, R]") -> Callable[Concatenate[Any, P], R]:
    """A sync method running ``plan`` on the backend's store."""

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return self._drive(plan(self._keyspace, *args, **kwargs))

    shape(method, plan)
    return method


def inert_door(plan: "PlanFunction[P, R]") -> Callable[Concatenate[Any, P], None]:
    """A method that takes the plan's arguments (unknown keywords raise) and does nothing."""

    def method(self: Any, *args: Any, **kwargs: Any) -> None:
        plan(self._keyspace, *args, **kwargs).close()
        return None

    shape(method, plan, returns_none=True)
    return method


def _contract(plan: "PlanFunction[P, R]") -> Callable[Concatenate[Any, P], R]:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("%s does not implement %s" % (type(self).__name__, plan.__name__))

    shape(method, plan)
    return method


C = TypeVar("C", bound=type)


def doors(make_door: Callable[[Any], Any]) -> Callable[[C], C]:
    """A class decorator: every public call of :data:`analytics.plans.CALLS` as a method made by ``make_door``.

    The base classes declare each call with its type; a backend class only says
    how its calls run.
    """

    def install(cls: C) -> C:
        for name, plan in plans.CALLS.items():
            setattr(cls, name, make_door(plan))
        return cls

    return install


class _ClassPrefix:
    """The default of ``prefix``: the backend class's :attr:`_prefix` (``None`` is refused, as in 0.7.0)."""

    def __repr__(self) -> str:
        return "<the class's _prefix>"


CLASS_PREFIX: Any = _ClassPrefix()


class BaseAnalyticsBackend:
    """Base class of analytics backends: the documented contract of every public call.

    ``prefix`` (keyword) starts every key the backend writes; it defaults to the
    class attribute :attr:`_prefix`, ``"_analytics"``.  The other keywords are
    opt-in (see the README): ``hours=True`` also counts hours, ``years=True``
    lets ``get_metrics`` group by year (0.6.x refused ``"year"``), ``timezone`` (an
    IANA name) is the zone days and hours are taken in, ``retention`` maps
    ``"hour"``, ``"day"``, ``"week"``, ``"month"`` and ``"unique"`` to a
    ``timedelta`` (or ``None``: forever) that buckets are kept after they end.
    They are checked here (``TypeError``/``ValueError`` naming the option).
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
        """The storage object the backend talks to (for the Redis backend, a nydus-like cluster)."""
        return self._analytics_backend

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
