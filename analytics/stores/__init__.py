"""How commands reach Redis: routing written once, one driver per world.

* :mod:`~analytics.stores.routing` (pure) - which node each command goes to,
  one pipeline per node, replies back in order, MULTI/EXEC, MOVED/ASK;
* :mod:`~analytics.stores.sync` and :mod:`~analytics.stores.aio` - the only
  code that writes to and reads from sockets, on redis-py's blocking and
  ``redis.asyncio`` connections;
* :mod:`~analytics.stores.single`, :mod:`~analytics.stores.ring`,
  :mod:`~analytics.stores.cluster` - how keys map to nodes (one host, a host
  list placed like 0.6.x's, Redis Cluster through redis-py's slot map);
* :mod:`~analytics.stores.settings` - a settings dict to a store, validated up front;
* :mod:`~analytics.stores.redispy` - every redis-py internal relied on.
"""
from analytics.stores.routing import Command, Node

__all__ = ["Command", "Node"]
