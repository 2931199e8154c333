"""Per-object counters in Redis, bucketed by day, week and month.

The front door: :func:`create_analytic_backend` builds a backend from a settings
dict exactly as py-analytics 0.6.x did.
"""
from typing import Any, Mapping

from analytics.utils import import_string

VERSION = "0.7.0"

__all__ = ["VERSION", "create_analytic_backend"]


def create_analytic_backend(settings: Mapping[str, Any]):
    """Build a backend from ``{"backend": dotted path or class, "settings": {...}}``.

    ``settings["settings"]`` is handed to the backend's constructor unchanged, and
    ``settings["prefix"]``, if present, as its ``prefix`` keyword.

    >>> create_analytic_backend({"backend": "analytics.backends.dummy.Dummy", "settings": {}})
    <analytics.backends.dummy.Dummy object at ...>
    """
    if not isinstance(settings, Mapping):
        raise TypeError("settings must be a dict with 'backend' and 'settings', got %r" % (settings,))
    backend = settings.get("backend")
    if backend is None:
        raise ValueError("settings has no 'backend' (e.g. 'analytics.backends.redis.Redis')")
    if isinstance(backend, str):
        backend = import_string(backend)
    options = {"prefix": settings["prefix"]} if "prefix" in settings else {}
    return backend(settings.get("settings", {}), **options)
