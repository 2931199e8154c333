"""Per-object counters in Redis, bucketed by day, week and month.

The front door: :func:`create_analytic_backend` builds a backend from a settings
dict exactly as py-analytics 0.6.x did.
"""
from typing import Any, Mapping, Optional

from analytics.errors import ConfigurationError, MissingSettingError
from analytics.utils import import_string

VERSION = "0.7.0"

__all__ = ["VERSION", "create_analytic_backend"]

#: The keys :func:`create_analytic_backend` reads from its settings dict; any other is refused.
FRONT_DOOR_KEYS = ("backend", "settings", "prefix", "hours", "years", "timezone", "retention")
#: The keys of :data:`FRONT_DOOR_KEYS` handed to the backend as keyword arguments (the backend's options).
BACKEND_OPTIONS = ("prefix", "hours", "years", "timezone", "retention")


def create_analytic_backend(settings: Mapping[str, Any]) -> Any:
    """Build a backend from ``{"backend": dotted path or class, "settings": {...}}``.

    ``settings["settings"]`` is handed to the backend's constructor unchanged,
    and ``prefix``, ``hours``, ``years``, ``timezone`` and ``retention``, when given, as
    its keywords of the same names.  A
    missing ``backend`` raises :class:`~analytics.errors.MissingSettingError`
    (a ``KeyError``, as in 0.6.x, and a ``ConfigurationError``); any key other
    than those of :data:`FRONT_DOOR_KEYS` raises ``ConfigurationError`` naming it.

    >>> create_analytic_backend({"backend": "analytics.backends.dummy.Dummy", "settings": {}})
    <analytics.backends.dummy.Dummy object at ...>
    """
    return resolve_backend(settings)


def resolve_backend(settings: Mapping[str, Any], twins: Optional[Mapping[str, str]] = None) -> Any:
    """The backend ``settings`` describe, checked; ``twins`` maps a backend's dotted path to the one to build instead.

    Shared by the sync and the asyncio front doors (:func:`analytics.aio.create_analytic_backend`).
    """
    if not isinstance(settings, Mapping):
        raise TypeError("settings must be a dict with 'backend' and 'settings', got %r" % (settings,))
    unknown = sorted(map(repr, set(settings) - set(FRONT_DOOR_KEYS)))
    if unknown:
        raise ConfigurationError("unknown top-level setting(s) %s; expected %s"
                                 % (", ".join(unknown), ", ".join(map(repr, FRONT_DOOR_KEYS))))
    backend = settings.get("backend")
    if backend is None:
        raise MissingSettingError("settings has no 'backend' (e.g. 'analytics.backends.redis.Redis')")
    if twins:
        path = backend if isinstance(backend, str) else "%s.%s" % (backend.__module__, backend.__qualname__)
        backend = twins.get(path, backend)
    if isinstance(backend, str):
        backend = import_string(backend)
    options = {name: settings[name] for name in BACKEND_OPTIONS if name in settings}
    return backend(settings.get("settings", {}), **options)
