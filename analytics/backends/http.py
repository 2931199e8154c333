"""The HTTP backend: every call of the library made on an analytics service (``analytics serve``).

Settings: ``{"url": "http://svc:8000", "token": "...", "timeout": 5}``.  Each
call becomes one HTTP request (:data:`analytics.webapi.CALLS` says which) and
its answer the very value the Redis backend returns; bad input raises the
library's own ``TypeError``/``ValueError``, a Redis host the service lost
:class:`~analytics.errors.HostUnavailableError` naming it.  When the service
itself cannot be reached, ``HostUnavailableError`` names the service's URL
(``applied`` is ``False`` when the connection was refused).  A refused token
raises :class:`~analytics.errors.ServiceError`.  ``prefix`` must be the
service's: ``clear_all()`` sends it as its confirmation.
"""
from typing import Any, Callable, Mapping

import httpx

from analytics import webapi
from analytics.backends.base import CLASS_PREFIX, BaseAnalyticsBackend, doors, shape
from analytics.errors import ClosedError, HostTimeoutError, HostUnavailableError


def transport_error(url: str, exc: httpx.TransportError) -> HostUnavailableError:
    """The library's error for a service that cannot be reached or does not answer in time."""
    if isinstance(exc, httpx.TimeoutException):
        return HostTimeoutError(url, exc, False if isinstance(exc, httpx.ConnectTimeout) else None)
    return HostUnavailableError(url, exc, False if isinstance(exc, httpx.ConnectError) else None)


def http_door(plan: Callable[..., Any]) -> Callable[..., Any]:
    """A method sending ``plan``'s call to the service."""
    name = plan.__name__

    def method(self: "HTTP", *args: Any, **kwargs: Any) -> Any:
        return self._call(name, webapi.bind(plan, self._keyspace, args, kwargs))

    shape(method, plan)
    return method


@doors(http_door)
class HTTP(BaseAnalyticsBackend):
    """The counters of an analytics service, over HTTP with ``httpx`` (``pip install 'analytics[http]'``)."""

    def __init__(self, settings: Mapping[str, Any], *, prefix: str = CLASS_PREFIX):
        super().__init__(settings, prefix=prefix)
        self.url, headers, timeout = webapi.client_options(settings)
        self.client = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)
        self._analytics_backend = self.client

    def _call(self, name: str, arguments: Mapping[str, Any]) -> Any:
        if self.client.is_closed:
            raise ClosedError("this analytics backend is closed")
        request, content, headers = webapi.prepare(name, arguments, asynchronous=False)
        try:
            response = self.client.request(request.method, request.path, params=request.params, content=content,
                                           headers=headers)
        except httpx.TransportError as exc:
            raise transport_error(self.url, exc) from exc
        return webapi.answer(name, response.status_code, response.content, self.url + request.path)

    def close(self) -> None:
        """Close the connections to the service."""
        self.client.close()

    def __enter__(self) -> "HTTP":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
