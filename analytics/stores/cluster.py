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
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import redis
import redis.exceptions
from redis.cluster import REDIS_ALLOWED_KEYS, ClusterNode, NodesManager, RedisCluster

from analytics.errors import ConfigurationError, HostUnavailableError
from analytics.stores.base import SCAN_BATCH, Command, Node, Store, command_key, raise_errors, send_batches

#: How many times one call follows MOVED/ASK replies before it gives up and
#: raises the redirection (a slot moving again and again means a resharding storm).
MAX_REDIRECTS = 5

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

#: Recent redis-py versions can ask a node that just failed last when reloading
#: the slot map (older ones may first wait a connect timeout on it).
_ASKS_FAILED_NODE_LAST = "last_failed_node_name" in inspect.signature(NodesManager.initialize).parameters


def cluster_client_options(cluster: Union[str, Sequence[str]], options: Mapping[str, Any]) -> Dict[str, Any]:
    """``RedisCluster`` keyword arguments for a ``cluster`` setting and its ``options``, checked.

    Every startup URL must use the same scheme and credentials: they are one
    cluster's, and redis-py applies one set of them to every node.
    """
    from analytics.stores.settings import DEFAULT_TIMEOUT, parse_host_url, tls_options

    urls = [cluster] if isinstance(cluster, str) else cluster
    if not isinstance(urls, (list, tuple)) or not urls or not all(isinstance(url, str) for url in urls):
        raise ConfigurationError(
            "settings['cluster'] must be a redis:// or rediss:// URL or a non-empty list of them, got %r" % (cluster,)
        )
    if not isinstance(options, Mapping):
        raise ConfigurationError("settings['options'] must be a dict, got %r" % (options,))
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


class ClusterStore(Store):
    """Keys spread over a Redis Cluster by the cluster's own slots.

    ``client`` is a ``redis.cluster.RedisCluster``; it is what
    :meth:`native` (and so ``get_backend()``) returns, and its slot map decides
    where every command goes.
    """

    def __init__(self, client: RedisCluster):
        self.client = client
        self._nodes: Dict[str, Node] = {}
        self._stale = False
        #: How many times the slot map was reloaded (after MOVED or a lost node).
        self.topology_refreshes = 0

    @classmethod
    def from_settings(cls, cluster: Union[str, Sequence[str]], options: Mapping[str, Any]) -> "ClusterStore":
        """Check the settings, then connect to the startup nodes to learn the slot map.

        Unlike a host list, a cluster is contacted here: redis-py loads the
        topology when its client is built.  A cluster that cannot be reached
        raises :class:`HostUnavailableError` naming the startup nodes.
        """
        from analytics.stores.settings import check_cluster_mode, check_tls_files

        kwargs = cluster_client_options(cluster, options)
        check_tls_files(options, "settings['options']")
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

    def primaries(self) -> List[Node]:
        if self._stale:
            self.refresh()
        return [self._node(cluster_node) for cluster_node in self.client.get_primaries()]

    def _node(self, cluster_node: ClusterNode) -> Node:
        connection = self.client.get_redis_connection(cluster_node)
        node = self._nodes.get(cluster_node.name)
        if node is None or node.client is not connection:
            node = self._nodes[cluster_node.name] = Node(cluster_node.name, connection)
        return node

    def _node_at(self, host: str, port: int) -> Node:
        cluster_node = self.client.get_node(host=host, port=port) or ClusterNode(host, port)
        return self._node(cluster_node)

    def refresh(self, failed: Optional[str] = None, applied: Optional[bool] = False) -> None:
        """Reload the slot map from the cluster (asking ``failed``, a node name, last).

        If no node answers, the next call tries again first, and this raises
        :class:`HostUnavailableError` (``applied`` says what the current call
        may already have written).
        """
        self.topology_refreshes += 1
        manager = self.client.nodes_manager
        try:
            if failed is not None and _ASKS_FAILED_NODE_LAST:
                manager.initialize(last_failed_node_name=failed)
            else:
                manager.initialize()
        except (redis.exceptions.RedisClusterException, redis.exceptions.ConnectionError,
                redis.exceptions.TimeoutError, OSError) as exc:
            self._stale = True
            raise HostUnavailableError("cluster (no node answered CLUSTER SLOTS)", exc, applied) from exc
        self._stale = False

    def execute(self, commands: Sequence[Command], atomic: bool = True) -> List[Any]:
        """Run ``commands`` with one plain pipeline per node that owns any of their keys.

        ``atomic`` cannot be honoured across slots and is ignored: each command
        is applied on its own.  MOVED/ASK replies are followed (only those
        commands are re-sent); a lost node raises :class:`HostUnavailableError`.
        """
        if not commands:
            return []
        if self._stale:
            self.refresh()
        replies: List[Any] = [None] * len(commands)
        slot_map = self.client.nodes_manager.slots_cache
        keyslot = self.client.keyslot
        by_node: Dict[str, Tuple[Node, List[int]]] = {}
        for pos, command in enumerate(commands):
            owners = slot_map.get(keyslot(command_key(command)))
            if not owners:
                raise redis.exceptions.SlotNotCoveredError(
                    "slot of key %r is not served by any node of the cluster" % (command_key(command),))
            owner = owners[0]
            entry = by_node.get(owner.name)
            if entry is None:
                entry = by_node[owner.name] = (self._node(owner), [])
            entry[1].append(pos)
        self._send(commands, [(node, [(pos, False) for pos in where]) for node, where in by_node.values()], replies)
        for _ in range(MAX_REDIRECTS):
            redirected = [(pos, reply) for pos, reply in enumerate(replies)
                          if isinstance(reply, redis.exceptions.AskError)]
            if not redirected:
                break
            if any(isinstance(reply, redis.exceptions.MovedError) for _, reply in redirected):
                self.refresh(applied=None)
            again: Dict[str, Tuple[Node, List[Tuple[int, bool]]]] = {}
            for pos, reply in redirected:
                node = self._node_at(reply.host, reply.port)
                asking = not isinstance(reply, redis.exceptions.MovedError)
                again.setdefault(node.name, (node, []))[1].append((pos, asking))
            self._send(commands, list(again.values()), replies)
        raise_errors(replies)
        return replies

    def _send(self, commands: Sequence[Command], plan: Sequence[Tuple[Node, List[Tuple[int, bool]]]],
              replies: List[Any]) -> None:
        """Send each node its commands (``(position, asking)``) and put the replies in place."""
        batches = []
        for node, where in plan:
            wire: List[Command] = []
            for pos, asking in where:
                if asking:
                    wire.append(("ASKING",))
                wire.append(commands[pos])
            batches.append((node, wire))
        self.round_trips += len(batches)
        try:
            results = send_batches(batches, atomic=False)
        except HostUnavailableError as exc:
            try:
                self.refresh(failed=exc.host)
            except HostUnavailableError:
                pass  # _stale is set: the next call reloads the slot map before sending
            raise
        for (_, where), node_replies in zip(plan, results):
            answers = iter(node_replies)
            for pos, asking in where:
                if asking:
                    next(answers)
                replies[pos] = next(answers)

    def delete_matching(self, pattern: str, batch: int = SCAN_BATCH) -> int:
        """Delete the keys matching ``pattern`` on every primary, a SCAN page at a time.

        The deletes go through :meth:`execute`, so a key whose slot moved while
        the scan ran is deleted where it now lives.
        """
        deleted = 0
        for _, keys in self.scan(pattern, batch):
            deleted += sum(self.execute([("UNLINK", key) for key in keys], atomic=False))
        return deleted

    def close(self) -> None:
        self.client.close()
