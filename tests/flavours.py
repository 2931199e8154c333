"""The sync and the asyncio backend behind one blocking face, so the same tests run on both.

:class:`Blocking` drives an asyncio backend on an event loop of its own, in a
thread of its own: each coroutine method is run to completion there, so a test
written against the sync API calls the async backend for real (its own store,
its own driver), and calls from several threads run as concurrent tasks.
"""
import asyncio
import inspect
import threading
from typing import Any

from analytics.aio.backends.redis import Redis as AsyncRedis
from analytics.backends.redis import Redis

FLAVOURS = ("sync", "async")


class Blocking:
    """An asyncio backend (or client) whose coroutine methods block until done."""

    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop = None):
        self._target = target
        if loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, daemon=True).start()
        self._loop = loop

    def run(self, awaitable: Any) -> Any:
        async def wait() -> Any:
            return await awaitable

        return asyncio.run_coroutine_threadsafe(wait(), self._loop).result()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if name == "store":
            return _StoreFace(attr, self)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            if inspect.isawaitable(result):
                return self.run(result)
            if name == "get_backend":
                return Blocking(result, self._loop)
            return result

        return call

    def close(self) -> None:
        self.run(self._target.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self.closed = True


class _StoreFace:
    """``backend.store`` as the tests use it: counters, and ``close()`` awaited."""

    def __init__(self, store: Any, owner: Blocking):
        self._store, self._owner = store, owner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def close(self) -> None:
        if not getattr(self._owner, "closed", False):
            self._owner.close()


def make_backend(flavour: str, settings: Any, **kwargs: Any) -> Any:
    """The sync backend, or the asyncio backend behind :class:`Blocking`.

    The asyncio one is built inside the loop that runs it, as an application
    should on Python 3.9 (where redis-py's asyncio locks bind the loop current
    when they are made).
    """
    if flavour == "sync":
        return Redis(settings, **kwargs)
    facade = Blocking(None)

    async def build() -> Any:
        return AsyncRedis(settings, **kwargs)

    facade._target = facade.run(build())
    return facade
