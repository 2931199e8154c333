"""The asyncio Redis backend: the sync backend's plans, driven on ``redis.asyncio``.

Same settings (one host, a host list placed like 0.6.x's, ``{"cluster": ...}``,
``{"client": redis.asyncio.Redis or RedisCluster}``), same keys, same results;
every public method is a coroutine.  ``timeout`` (a host setting, or a
cluster's ``options``) bounds each whole call.
"""
from typing import Any, Mapping, Optional

from analytics.aio.backends.base import AsyncBaseAnalyticsBackend, door
from analytics.backends.base import CLASS_PREFIX, Retention, doors
from analytics.stores.aio import AsyncStore, build_async_store
from analytics.stores.routing import run_plan


@doors(door)
class Redis(AsyncBaseAnalyticsBackend):
    """Counters in Redis for asyncio code; see :class:`analytics.backends.redis.Redis` for the settings."""

    def __init__(self, settings: Mapping[str, Any], *, prefix: str = CLASS_PREFIX, hours: bool = False,
                 years: bool = False, timezone: Optional[str] = None, retention: Optional[Retention] = None):
        super().__init__(settings, prefix=prefix, hours=hours, years=years, timezone=timezone,
                         retention=retention)
        self.store: AsyncStore = build_async_store(settings)
        self._analytics_backend = self.store.native()

    async def _drive(self, plan: Any) -> Any:
        return await self.store.run(run_plan(self.store.topology, plan))

    async def aclose(self) -> None:
        await self.store.aclose()
