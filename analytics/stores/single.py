"""One Redis server (also the store behind an application's own ``redis.Redis``)."""
from typing import Any

from analytics.stores.routing import FixedTopology, Node
from analytics.stores.sync import SyncStore, longest_timeout


class SingleStore(SyncStore):
    """Every key on one node.

    ``native_client`` is what :meth:`get_backend` returns: the application's own
    client when it handed one in, else the node's client.
    """

    def __init__(self, node: Node, native_client: Any = None):
        super().__init__(FixedTopology([node], lambda key: node),
                         longest_timeout([node.client.connection_pool.connection_kwargs]))
        self.nodes = [node]
        self._native = native_client if native_client is not None else node.client

    def native(self) -> Any:
        return self._native
