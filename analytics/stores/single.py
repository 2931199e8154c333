"""One Redis server (also the store behind an application's own ``redis.Redis``)."""
from typing import Any

from analytics.stores.base import Node, NodeStore


class SingleStore(NodeStore):
    """Every key on one node.

    ``native_client`` is what :meth:`get_backend` returns: the application's own
    client when it handed one in, else the facade built by the settings.
    """

    def __init__(self, node: Node, native_client: Any = None):
        super().__init__([node])
        self._native = native_client if native_client is not None else node.client

    def route(self, key: str) -> int:
        return 0

    def native(self) -> Any:
        return self._native
