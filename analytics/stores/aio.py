"""The asyncio driver: carries out the routing flows' I/O on ``redis.asyncio`` connections.

The twin of :mod:`analytics.stores.sync`: the same flows, the same requests,
answered by awaiting instead of blocking.  Besides, each call here has a
deadline: ``timeout`` bounds the whole call, however slowly a host trickles
its replies.

Cancellation (``asyncio.wait_for`` timing out, a web client going away) can
land at any ``await``.  Whatever it interrupts, a connection whose replies
were not all read is closed, never handed back to the pool, so the next call
on the backend reads its own replies.
"""
import asyncio
import contextvars
import functools
import itertools
import sys
from typing import Any, Generator, List, Optional, Sequence, Tuple

import redis.asyncio
import redis.asyncio.cluster
import redis.exceptions

from analytics.errors import ClosedError, HostTimeoutError, HostUnavailableError
from analytics.plans.steps import Take
from analytics.ring import HashRing
from analytics.stores import redispy, routing
from analytics.stores.cluster import ClusterTopology
from analytics.stores.aio_ring import AsyncRingClient
from analytics.stores.ring import ROUTE_CACHE_SIZE
from analytics.stores.routing import Command, FixedTopology, Node, Refresh, ScanNode, Send, Topology
from analytics.stores.settings import DEFAULT_TIMEOUT, client_node_name, describe
from analytics.stores.sync import IO_ERRORS, host_error

if sys.version_info >= (3, 11):
    _deadline = asyncio.timeout_at
else:  # pragma: no cover - Python < 3.11 has no asyncio.timeout_at; redis.asyncio brings async-timeout
    from async_timeout import timeout_at as _deadline  # type: ignore[import-not-found,no-redef]


class _Lease:
    """One node's connection during a batch: where it came from, and whether its replies are all read."""

    __slots__ = ("node", "conn", "done")

    def __init__(self, node: Node, conn: Any):
        self.node, self.conn, self.done = node, conn, False


async def _checkout(node: Node) -> Any:
    client = node.client
    if isinstance(client, redis.asyncio.cluster.ClusterNode):
        return client.acquire_connection()
    pool = client.connection_pool
    try:
        return await pool.get_connection()
    except TypeError:  # redis-py < 5.1 still wants a command name
        return await pool.get_connection("PIPELINE")


async def _release(lease: _Lease, broken: bool) -> None:
    if broken:
        # No waiting: this may run while a cancellation is being delivered.
        await lease.conn.disconnect(nowait=True)
    client = lease.node.client
    if isinstance(client, redis.asyncio.cluster.ClusterNode):
        client.release(lease.conn)
    else:
        await client.connection_pool.release(lease.conn)


def node_timeout(node: Node) -> Optional[float]:
    client = node.client
    kwargs = client.connection_kwargs if isinstance(client, redis.asyncio.cluster.ClusterNode) \
        else client.connection_pool.connection_kwargs
    return kwargs.get("socket_timeout")


#: The node whose replies the current task awaits: the one a call's deadline names when it passes.
_READING: "contextvars.ContextVar[Optional[Node]]" = contextvars.ContextVar("analytics_reading", default=None)


def _late_node(request: Any, topology: Topology) -> str:
    """The node to blame when a call's deadline passed during ``request``."""
    node = _READING.get()
    if node is None and type(request) is Send and request.batches:
        node = request.batches[0][0]
    if node is None and type(request) is ScanNode:
        node = request.node
    return node.name if node is not None else topology.primaries()[0].name


async def send_batches(batches: Sequence[Tuple[Node, Sequence[Command]]], atomic: bool) -> List[List[Any]]:
    """Send every node its pipeline, all before reading any reply; return each node's replies.

    As :func:`analytics.stores.sync.send_batches`: error replies in place, a
    lost node raises :class:`HostUnavailableError` naming it once every other
    node's replies are read, nothing is re-sent.  Timeouts are the caller's
    deadline (see :meth:`AsyncStore.run`).
    """
    leases: List[Optional[_Lease]] = []
    failure: Optional[HostUnavailableError] = None
    reading: Optional[Node] = None
    try:
        for node, commands in batches:
            try:
                fresh = _Lease(node, await _checkout(node))
            except IO_ERRORS as exc:
                failure = failure or host_error(node, exc, applied=False)
                leases.append(None)
                continue
            leases.append(fresh)
            try:
                await fresh.conn.send_packed_command(
                    redispy.pack(fresh.conn, routing.wrap(list(commands), atomic)), check_health=False)
            except (redis.exceptions.RedisError, OSError) as exc:
                fresh.done = True
                await _release(fresh, broken=True)
                leases[-1] = None
                failure = failure or host_error(node, exc, applied=None)
        results: List[List[Any]] = []
        for (node, commands), leased in zip(batches, leases):
            if leased is None:
                results.append([])
                continue
            lease = leased
            reading = node
            _READING.set(node)
            count = len(commands)
            read = redispy.async_reply_reader(lease.conn)
            try:
                replies = [await read() for _ in range(count + 2 if atomic else count)]
            except IO_ERRORS as exc:
                lease.done = True
                await _release(lease, broken=True)
                failure = failure or host_error(node, exc, applied=None)
                results.append([])
                continue
            lease.done = True
            await _release(lease, broken=False)
            results.append(routing.unwrap(replies, count, atomic))
    except BaseException as exc:
        for unread in leases:
            if unread is not None and not unread.done:
                unread.done = True
                await _release(unread, broken=True)
        if isinstance(exc, (asyncio.TimeoutError, TimeoutError)) and not isinstance(exc, HostUnavailableError):
            late = reading or batches[0][0]
            raise HostTimeoutError(late.name, exc, applied=None) from None
        raise
    if failure is not None:
        raise failure
    return results


class AsyncStore:
    """Where an asyncio backend's plans run: a topology and this driver."""

    def __init__(self, topology: Topology, native: Any, cluster: Any = None, timeout: Optional[float] = None):
        self.topology = topology
        self._native = native
        self._cluster = cluster
        self.timeout = timeout
        self.round_trips = 0
        self.topology_refreshes = 0
        self.closed = False

    async def run(self, flow: Generator[Any, Any, Any]) -> Any:
        """Drive a flow to its end within the call's deadline; return its result."""
        if self.closed:
            raise ClosedError("this analytics backend is closed")
        loop = asyncio.get_running_loop()
        timeout = self.timeout
        deadline = None if timeout is None else loop.time() + timeout
        try:
            request = next(flow)
            while True:
                try:
                    if timeout is None:
                        answer = await self.perform(request)
                    elif type(request) is Take:
                        answer = await self.perform(request)
                        # Reading the caller's input is not Redis' time: a bulk load fed by a slow
                        # stream (an HTTP upload) gets the whole timeout for each chunk it sends.
                        deadline = loop.time() + timeout
                    else:
                        _READING.set(None)
                        try:
                            async with _deadline(deadline):
                                answer = await self.perform(request)
                        except (asyncio.TimeoutError, TimeoutError) as exc:
                            # The deadline cancelled the wait for a reply: name that node, as a socket timeout would.
                            raise HostTimeoutError(_late_node(request, self.topology), exc, applied=None) from None
                except Exception as exc:
                    request = flow.throw(exc)
                else:
                    request = flow.send(answer)
        except StopIteration as done:
            return done.value

    async def perform(self, request: Any) -> Any:
        kind = type(request)
        if kind is Send:
            self.round_trips += len(request.batches)
            return await send_batches(request.batches, request.atomic)
        if kind is Take:
            stream = request.stream
            if hasattr(stream, "__anext__"):
                chunk = []
                async for item in stream:
                    chunk.append(item)
                    if len(chunk) == request.size:
                        break
                return chunk
            return list(itertools.islice(stream, request.size))
        if kind is ScanNode:
            self.round_trips += 1
            scan = ("SCAN", request.cursor, "MATCH", request.pattern, "COUNT", request.count)
            reply = (await send_batches([(request.node, [scan])], atomic=False))[0][0]
            routing.raise_errors([reply])
            return reply[0], reply[1]
        if kind is Refresh:
            return await self.refresh(request.failed, request.applied)
        raise TypeError("unknown request %r" % (request,))

    async def refresh(self, failed: Optional[str] = None, applied: Optional[bool] = False) -> None:
        """Reload the cluster's slot map; if no node answers, the next call tries again first."""
        self.topology_refreshes += 1
        assert isinstance(self.topology, ClusterTopology)
        try:
            await redispy.refresh_async_cluster(self._cluster, failed)
        except (redis.exceptions.RedisClusterException,) + IO_ERRORS as exc:
            self.topology.stale = True
            raise HostUnavailableError("cluster (no node answered CLUSTER SLOTS)", exc, applied) from exc
        self.topology.stale = False
        self.topology.forget()

    def primaries(self) -> List[Node]:
        return self.topology.primaries()

    def native(self) -> Any:
        return self._native

    async def aclose(self) -> None:
        """Close every connection; later calls raise :class:`ClosedError`."""
        self.closed = True
        if self._cluster is not None:
            await self._cluster.aclose() if hasattr(self._cluster, "aclose") else await self._cluster.close()
            return
        for node in self.topology.primaries():
            client = node.client
            await client.aclose() if hasattr(client, "aclose") else await client.close()


def _async_startup(kwargs: dict) -> dict:
    """``RedisCluster`` keyword arguments for redis.asyncio (its own ClusterNode class)."""
    kwargs = dict(kwargs)
    kwargs["startup_nodes"] = [redis.asyncio.cluster.ClusterNode(node.host, node.port)
                               for node in kwargs["startup_nodes"]]
    return kwargs


def build_async_store(settings: Any) -> AsyncStore:
    """The asyncio store a settings dict describes: the same forms and checks as the sync one.

    Nothing is connected here: a cluster's slot map is loaded by the first call.
    """
    kind, described = describe(settings)
    if kind == "cluster":
        client = redis.asyncio.cluster.RedisCluster(**_async_startup(described))
        return _cluster_store(client, described.get("socket_timeout", DEFAULT_TIMEOUT))
    if kind == "client":
        client = described
        if isinstance(client, redis.asyncio.cluster.RedisCluster):
            return _cluster_store(client, client.connection_kwargs.get("socket_timeout"))
        if isinstance(client, redis.asyncio.Redis):
            kwargs = client.connection_pool.connection_kwargs
            node = Node(client_node_name(kwargs), client)
            return AsyncStore(FixedTopology([node], lambda key: 0), client, timeout=kwargs.get("socket_timeout"))
        from analytics.errors import ConfigurationError

        raise ConfigurationError("settings['client'] of the asyncio backend must be a redis.asyncio.Redis or "
                                 "redis.asyncio.cluster.RedisCluster, got %r" % (client,))
    nodes = [Node(spec.name, redis.asyncio.Redis(**spec.options)) for spec in described]
    ring = HashRing([spec.identifier for spec in described])
    route = functools.lru_cache(maxsize=ROUTE_CACHE_SIZE)(ring.node_for)
    timeouts = [spec.options["socket_timeout"] for spec in described if spec.options["socket_timeout"] is not None]
    return AsyncStore(FixedTopology(nodes, route), AsyncRingClient(nodes, ring, route),
                      timeout=max(timeouts) if timeouts else None)


def _cluster_store(client: Any, timeout: Optional[float]) -> AsyncStore:
    topology = ClusterTopology(client, lambda cluster_node: Node(cluster_node.name, cluster_node))
    topology.stale = True  # redis.asyncio loads the slot map on first use, as this store does
    return AsyncStore(topology, client, cluster=client, timeout=timeout)
