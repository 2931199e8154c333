"""A host list placed by the 0.6.x-compatible ring.

``get_backend()`` returns its :class:`~analytics.stores.ring_client.RingClient`
(imported here too, with :class:`Deferred`, where 0.7.0 defined them).
"""
from typing import Sequence

from analytics.ring import HashRing
from analytics.stores.base import Node, NodeStore
from analytics.stores.ring_client import BROADCAST_COMMANDS, CrossHostCommandError, Deferred, RingClient

__all__ = ["BROADCAST_COMMANDS", "CrossHostCommandError", "Deferred", "RingClient", "RingStore"]


class RingStore(NodeStore):
    """Keys spread over several hosts exactly as py-analytics 0.6.x spread them."""

    def __init__(self, nodes: Sequence[Node], identifiers: Sequence[str]):
        super().__init__(nodes)
        self.ring = HashRing(identifiers)
        self._client = RingClient(self)

    def route(self, key: str) -> int:
        return self.ring.node_for(key)

    def native(self) -> RingClient:
        return self._client
