"""The asyncio twin of :class:`analytics.backends.dummy.Dummy`: every coroutine takes the arguments and does nothing."""
from typing import Any

from analytics.aio.backends.base import AsyncBaseAnalyticsBackend, inert_door
from analytics.backends.base import CLASS_PREFIX, doors


@doors(inert_door)
class Dummy(AsyncBaseAnalyticsBackend):
    """Every method is a coroutine taking the Redis backend's arguments (a misspelt keyword raises) and returning ``None``."""

    def __init__(self, settings: Any = None, *, prefix: str = CLASS_PREFIX):
        super().__init__(settings, prefix=prefix)
