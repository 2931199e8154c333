"""Redis Cluster, with redis-py's ``RedisCluster`` as the source of topology.

Keys keep their 0.6.x names (no hash tags), so the commands of one call land
on many slots.  :class:`ClusterStore` groups them by the node that owns each
key's slot in the client's own slot map and sends one plain pipeline per node,
all in flight at once, through :func:`~analytics.stores.base.send_batches`.

It does not use ``RedisCluster.pipeline()``: that re-sends its whole command
stack after a connection error, so increments that had already been applied
were applied twice, and it was slower than one plain pipeline per node.

What is re-sent, and what never is:

* a command answered with ``MOVED`` or ``ASK`` was refused, not applied: it
  alone is sent again, to the node the reply names (``ASK`` preceded by
  ``ASKING``), after the slot map is refreshed through redis-py;
* a node that cannot be reached or stops answering raises
  :class:`~analytics.errors.HostUnavailableError` naming it, and nothing is
  re-sent (its batch may have been applied); the slot map is refreshed so the
  next call reaches whichever node then owns the slots (e.g. a promoted replica).

Commands run without MULTI/EXEC: Redis Cluster refuses a transaction whose keys
lie in different slots.  Each command is still atomic on its own, including the
single-key script of ``set_metric_by_day``.
"""
import inspect
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

import redis
import redis.exceptions
from redis.cluster import REDIS_ALLOWED_KEYS, ClusterNode, RedisCluster

from analytics.errors import ConfigurationError, HostUnavailableError
from analytics.stores import redispy
from analytics.stores.routing import Node, Topology
from analytics.stores.sync import IO_ERRORS, SyncStore, longest_timeout

#: ``options`` that the ``cluster`` URLs themselves set, or that would break the
#: guarantees above (redis-py retrying node commands could re-send them).
_RESERVED_OPTIONS = frozenset({"host", "port", "startup_nodes", "url", "retry", "connection_pool", "db"})
#: The cluster-level keyword arguments of the installed redis-py's ``RedisCluster``.
_CLIENT_OPTIONS = frozenset(
    name for name, parameter in inspect.signature(RedisCluster.__init__).parameters.items()
    if name != "self" and parameter.kind is not inspect.Parameter.VAR_KEYWORD
)
#: ``timeout`` means what it means for a host of a host list: connect and reply timeout.
CLUSTER_OPTIONS = (_CLIENT_OPTIONS | frozenset(REDIS_ALLOWED_KEYS) | {"timeout"}) - _RESERVED_OPTIONS

def cluster_client_options(cluster: Union[str, Sequence[str]], options: Mapping[str, Any]) -> Dict[str, Any]:
    """``RedisCluster`` keyword arguments for a ``cluster`` setting and its ``options``, checked.

    Every startup URL must use the same scheme and credentials: they are one
    cluster's, and redis-py applies one set of them to every node.
    """
    from analytics.stores.settings import DEFAULT_TIMEOUT, check_tls_files, parse_host_url, tls_options

    urls = [cluster] if isinstance(cluster, str) else cluster
    if not isinstance(urls, (list, tuple)) or not urls or not all(isinstance(url, str) for url in urls):
        raise ConfigurationError(
            "settings['cluster'] must be a redis:// or rediss:// URL or a non-empty list of them, got %r" % (cluster,)
        )
    if not isinstance(options, Mapping):
        raise ConfigurationError("settings['options'] must be a dict, got %r" % (options,))
    check_tls_files(options, "settings['options']")
    unknown = sorted(set(options) - CLUSTER_OPTIONS)
    if unknown:
        raise ConfigurationError(
            "settings['options']: unknown or not allowed option(s) %s for redis.cluster.RedisCluster"
            % ", ".join(map(repr, unknown))
        )
    startup, shared = [], None
    for url in urls:
        spec = parse_host_url(url)
        if "unix_socket_path" in spec:
            raise ConfigurationError("settings['cluster']: %r: a cluster node needs a host and port" % (url,))
        if spec.pop("db", "0") not in ("0", 0):
            raise ConfigurationError("settings['cluster']: %r: Redis Cluster has only database 0" % (url,))
        for unsupported in ("identifier", "timeout"):
            if unsupported in spec:
                raise ConfigurationError(
                    "settings['cluster']: %r: %r is not a cluster URL parameter (use settings['options'])"
                    % (url, unsupported)
                )
        host, port = spec.pop("host", "localhost"), spec.pop("port", 6379)
        if shared is None:
            shared = spec
        elif spec != shared:
            raise ConfigurationError(
                "settings['cluster']: %r uses another scheme, credentials or TLS files than %r; "
                "all startup nodes of a cluster share them" % (url, urls[0])
            )
        startup.append(ClusterNode(host, port))
    assert shared is not None  # urls is a non-empty list, checked above
    kwargs: Dict[str, Any] = {
        "startup_nodes": startup,
        "decode_responses": True,
        "socket_timeout": DEFAULT_TIMEOUT,
        "socket_connect_timeout": DEFAULT_TIMEOUT,
    }
    for key in ("username", "password"):
        if shared.get(key):
            kwargs[key] = shared[key]
    if shared.get("ssl") or any(key.startswith("ssl_") for key in shared):
        kwargs.update(tls_options(shared, "settings['cluster']"))
    options = dict(options)
    if "timeout" in options:
        timeout = options.pop("timeout")
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
            raise ConfigurationError("settings['options']: timeout must be a positive number of seconds, got %r"
                                     % (timeout,))
        kwargs["socket_timeout"] = kwargs["socket_connect_timeout"] = timeout
    kwargs.update(options)
    return kwargs


class ClusterTopology(Topology):
    """A cluster client's slot map as the flows see it: which node serves a key.

    ``connect`` makes the driver's :class:`Node` for one of the client's
    cluster nodes (a per-node ``redis.Redis`` on the sync side, the
    ``ClusterNode`` itself on the asyncio side).
    """

    transactions = False
    reloads = True

    def __init__(self, client: Any, connect: Callable[[Any], Node]):
        self.client = client
        self._connect = connect
        self._nodes: Dict[str, Node] = {}
        self.stale = False
        #: The name of a node that failed and that the slot map may still name.
        self.suspect: Optional[str] = None

    def _node(self, cluster_node: Any) -> Node:
        node = self._nodes.get(cluster_node.name)
        if node is None:
            node = self._nodes[cluster_node.name] = self._connect(cluster_node)
        return node

    def reloaded(self) -> None:
        """After the slot map was reloaded: stay stale while it still names a node that failed.

        During a failover the map keeps naming the dead primary until a replica
        is promoted; reloading before every call until then makes the first
        call after the promotion reach the new primary.  The nodes made so far
        are dropped: after a change a name may stand for a new client.
        """
        self._nodes.clear()
        names = {cluster_node.name for cluster_node in self.client.get_primaries()}
        if self.suspect not in names:
            self.suspect = None
        self.stale = self.suspect is not None

    def node_for(self, key: Any) -> Node:
        owners = redispy.slot_owners(self.client, key)
        if not owners:
            raise redis.exceptions.SlotNotCoveredError("slot of key %r is not served by any node of the cluster" % (key,))
        return self._node(owners[0])

    def primaries(self) -> List[Node]:
        return [self._node(cluster_node) for cluster_node in sorted(self.client.get_primaries(), key=_name)]

    def node_at(self, host: str, port: int) -> Node:
        return self._node(self.client.get_node(host=host, port=port) or ClusterNode(host, port))


def _name(cluster_node: Any) -> str:
    return cluster_node.name


class ClusterStore(SyncStore):
    """Keys spread over a Redis Cluster by the cluster's own slots.

    ``client`` is a ``redis.cluster.RedisCluster``; it is what :meth:`native`
    (and so ``get_backend()``) returns, and its slot map decides where every
    command goes.
    """

    def __init__(self, client: RedisCluster):
        self.client = client
        self.topology: ClusterTopology = ClusterTopology(
            client, lambda cluster_node: Node(cluster_node.name, client.get_redis_connection(cluster_node)))
        super().__init__(self.topology, longest_timeout([client.nodes_manager.connection_kwargs]))

    @classmethod
    def from_settings(cls, cluster: Union[str, Sequence[str]], options: Mapping[str, Any]) -> "ClusterStore":
        """Check the settings, then connect to the startup nodes to learn the slot map.

        Unlike a host list, a cluster is contacted here: redis-py loads the
        topology when its client is built.  A cluster that cannot be reached
        raises :class:`HostUnavailableError` naming the startup nodes.
        """
        return cls.from_kwargs(cluster_client_options(cluster, options))

    @classmethod
    def from_kwargs(cls, kwargs: Dict[str, Any]) -> "ClusterStore":
        """Connect with checked :func:`cluster_client_options` (raises :class:`HostUnavailableError`)."""
        from analytics.stores.settings import check_cluster_mode

        try:
            client = RedisCluster(**kwargs)
        except (redis.exceptions.RedisClusterException, redis.exceptions.ConnectionError,
                redis.exceptions.TimeoutError, OSError) as exc:
            check_cluster_mode(kwargs)
            names = ", ".join(node.name for node in kwargs["startup_nodes"])
            raise HostUnavailableError("cluster (startup nodes %s)" % names, exc, applied=False) from exc
        return cls(client)

    def native(self) -> RedisCluster:
        return self.client

    def refresh(self, failed: Optional[str] = None, applied: Optional[bool] = False) -> None:
        """Reload the slot map (asking ``failed`` last).

        If no node answers, the next call tries again first, and this raises
        :class:`HostUnavailableError` (``applied`` says what the current call
        may already have written).
        """
        self.topology_refreshes += 1
        try:
            redispy.refresh_cluster(self.client, failed)
        except (redis.exceptions.RedisClusterException,) + IO_ERRORS as exc:
            self.topology.stale = True
            raise HostUnavailableError("cluster (no node answered CLUSTER SLOTS)", exc, applied) from exc
        self.topology.reloaded()

    def close(self) -> None:
        self.closed = True
        self.client.close()
