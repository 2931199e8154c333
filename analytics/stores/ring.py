"""A host list placed by the 0.6.x-compatible ring.

``get_backend()`` returns its :class:`~analytics.stores.ring_client.RingClient`
(imported here too, with :class:`Deferred`, where 0.7.0 defined them).
"""
from typing import Callable, Sequence

from analytics.ring import HashRing
from analytics.stores.ring_client import BROADCAST_COMMANDS, CrossHostCommandError, Deferred, RingClient
from analytics.stores.routing import FixedTopology, Node
from analytics.stores.sync import SyncStore, longest_timeout

__all__ = ["BROADCAST_COMMANDS", "CrossHostCommandError", "Deferred", "RingClient", "RingStore"]

#: Keys whose host is remembered (about 100 bytes each).
ROUTE_CACHE_SIZE = 65536


class RingStore(SyncStore):
    """Keys spread over several hosts exactly as py-analytics 0.6.x spread them."""

    def __init__(self, nodes: Sequence[Node], identifiers: Sequence[str]):
        self.nodes = list(nodes)
        self.ring = HashRing(identifiers)
        self.route: Callable[[str], int] = self.ring.node_for
        super().__init__(FixedTopology(self.nodes, self.ring.placer(self.nodes), cache_size=ROUTE_CACHE_SIZE),
                         longest_timeout([node.client.connection_pool.connection_kwargs for node in self.nodes]))
        self._client = RingClient(self)

    def native(self) -> RingClient:
        return self._client
