"""The asyncio twin of :class:`analytics.backends.dummy.Dummy`: every coroutine takes the arguments and does nothing."""
from typing import Any, Optional

from analytics.aio.backends.base import AsyncBaseAnalyticsBackend, inert_door
from analytics.backends.base import CLASS_PREFIX, Retention, doors


@doors(inert_door)
class Dummy(AsyncBaseAnalyticsBackend):
    """Every method is a coroutine taking the Redis backend's arguments (a misspelt keyword raises) and returning ``None``."""

    def __init__(self, settings: Any = None, *, prefix: str = CLASS_PREFIX, hours: bool = False,
                 years: bool = False, timezone: Optional[str] = None, retention: Optional[Retention] = None):
        super().__init__(settings, prefix=prefix, hours=hours, years=years, timezone=timezone,
                         retention=retention)
