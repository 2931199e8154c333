"""The sync backend's calls as coroutines, each run in a worker thread.

A stand-in for the asyncio backend (:mod:`analytics.aio`) until it lands: the
service only awaits a backend's public calls, so swapping this for
``analytics.aio.create_analytic_backend(settings)`` changes nothing else.
"""
from typing import Any, Callable, Iterator

import anyio.from_thread
from starlette.concurrency import run_in_threadpool


def _blocking(events: Any) -> Iterator[Any]:
    """An async iterable read from a worker thread, one item at a time through the event loop."""
    iterator = events.__aiter__()

    async def next_item() -> Any:
        return await iterator.__anext__()

    while True:
        try:
            yield anyio.from_thread.run(next_item)
        except StopAsyncIteration:
            return


class Threaded:
    """Every call of a sync ``backend`` as a coroutine with the same arguments and result."""

    def __init__(self, backend: Any):
        self._backend = backend
        self.prefix = backend.prefix

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._backend, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await run_in_threadpool(method, *args, **kwargs)

        return call

    async def track_metrics(self, events: Any, *args: Any, **kwargs: Any) -> Any:
        if hasattr(events, "__aiter__"):
            events = _blocking(events)
        return await run_in_threadpool(self._backend.track_metrics, events, *args, **kwargs)

    async def aclose(self) -> None:
        await run_in_threadpool(self._backend.close)
