"""How commands reach Redis: one narrow interface, three implementations.

A :class:`~analytics.stores.base.Store` takes a list of commands, each naming
the key it touches, and returns their replies in the same order after sending
one pipeline to every node involved, all of them in flight at once.

* :class:`~analytics.stores.single.SingleStore` - one Redis server;
* :class:`~analytics.stores.ring.RingStore` - a host list placed by the 0.6.x ring;
* :class:`~analytics.stores.cluster.ClusterStore` - Redis Cluster, through redis-py.

:func:`~analytics.stores.settings.build_store` turns a settings dict into one.
"""
from analytics.stores.base import Command, Node, Store

__all__ = ["Command", "Node", "Store"]
