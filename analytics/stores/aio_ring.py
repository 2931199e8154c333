"""``get_backend()`` of the asyncio backend on a host list: the ring client's routing, awaited."""
import types
from typing import Any, Callable, Sequence

import redis.exceptions

from analytics.ring import HashRing
from analytics.stores.ring_client import RingClient
from analytics.stores.routing import Node
from analytics.stores.sync import host_error


class AsyncRingClient(RingClient):
    """:class:`~analytics.stores.ring_client.RingClient` for ``redis.asyncio``: every command is a coroutine.

    Keyed commands go to their key's host, keyless ones run on every host (a
    list of replies), multi-key counts and ``mget`` are split and merged, as
    in the sync client (the same planner).  ``map()`` is not offered.
    """

    def __init__(self, nodes: Sequence[Node], ring: HashRing, route: Callable[[str], int]):
        super().__init__(types.SimpleNamespace(nodes=list(nodes), ring=ring, route=route))

    async def _on_host(self, index: int, call: Callable[[], Any]) -> Any:  # type: ignore[override]
        try:
            return await call()
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            raise host_error(self._store.nodes[index], exc, applied=None) from exc

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)

        async def command(*args: Any, **kwargs: Any) -> Any:
            parts, merge = self._plan(name, args, kwargs)
            replies = []
            for index, method, part_args, part_kwargs in parts:
                client = self.hosts[index]
                replies.append(await self._on_host(
                    index, lambda: getattr(client, method)(*part_args, **part_kwargs)))
            return merge(replies)

        command.__name__ = name
        return command

    def map(self) -> Any:
        raise NotImplementedError("map() batches on the sync client only; on asyncio, gather the commands")
