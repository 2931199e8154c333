"""``analytics`` for asyncio code: the same calls, awaited.

``analytics.aio.create_analytic_backend(settings)`` takes the very dict
:func:`analytics.create_analytic_backend` takes.  A ``backend`` naming the sync
Redis or Dummy backend (as a dotted path or the class) builds its asyncio twin::

    from analytics.aio import create_analytic_backend

    analytics = create_analytic_backend({
        "backend": "analytics.backends.redis.Redis",
        "settings": {"hosts": [{"host": "localhost"}]},
    })
    await analytics.track_metric("user:1234", "comments")
    await analytics.aclose()
"""
from typing import Any, Mapping

from analytics import resolve_backend

__all__ = ["create_analytic_backend"]

#: Sync backends and their asyncio twins.
TWINS = {
    "analytics.backends.redis.Redis": "analytics.aio.backends.redis.Redis",
    "analytics.backends.dummy.Dummy": "analytics.aio.backends.dummy.Dummy",
    "analytics.backends.http.HTTP": "analytics.aio.backends.http.HTTP",
}


def create_analytic_backend(settings: Mapping[str, Any]) -> Any:
    """Build an asyncio backend from ``{"backend": ..., "settings": {...}}`` (and ``prefix``)."""
    return resolve_backend(settings, twins=TWINS)
