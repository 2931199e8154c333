"""The asyncio HTTP backend: :class:`analytics.backends.http.HTTP`'s calls, awaited.

Same settings (``{"url", "token", "timeout"}``), same requests
(:data:`analytics.webapi.CALLS`), same results and exceptions; ``track_metrics``
also streams an async iterable of events.
"""
from typing import Any, Callable, Mapping

import httpx

from analytics import webapi
from analytics.aio.backends.base import AsyncBaseAnalyticsBackend
from analytics.backends.base import CLASS_PREFIX, doors, shape
from analytics.backends.http import transport_error
from analytics.errors import ClosedError


def http_door(plan: Callable[..., Any]) -> Callable[..., Any]:
    """A coroutine method sending ``plan``'s call to the service."""
    name = plan.__name__

    async def method(self: "HTTP", *args: Any, **kwargs: Any) -> Any:
        return await self._call(name, webapi.bind(plan, self._keyspace, args, kwargs))

    shape(method, plan)
    return method


@doors(http_door)
class HTTP(AsyncBaseAnalyticsBackend):
    """The counters of an analytics service, for asyncio code (``httpx.AsyncClient``)."""

    def __init__(self, settings: Mapping[str, Any], *, prefix: str = CLASS_PREFIX):
        super().__init__(settings, prefix=prefix)
        self.url, headers, timeout = webapi.client_options(settings)
        self.client = httpx.AsyncClient(base_url=self.url, headers=headers, timeout=timeout)
        self._analytics_backend = self.client

    async def _call(self, name: str, arguments: Mapping[str, Any]) -> Any:
        if self.client.is_closed:
            raise ClosedError("this analytics backend is closed")
        request, content, headers = webapi.prepare(name, arguments, asynchronous=True)
        try:
            response = await self.client.request(request.method, request.path, params=request.params,
                                                 content=content, headers=headers)
        except httpx.TransportError as exc:
            raise transport_error(self.url, exc) from exc
        return webapi.answer(name, response.status_code, response.content, self.url + request.path)

    async def aclose(self) -> None:
        """Close the connections to the service."""
        await self.client.aclose()
