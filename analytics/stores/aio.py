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
import itertools
import sys
import time
from typing import Any, Generator, List, Mapping, Optional, Sequence, Tuple

import redis.asyncio
import redis.asyncio.cluster
import redis.asyncio.retry
import redis.exceptions
from redis.backoff import NoBackoff

from analytics.errors import ClosedError, HostTimeoutError, HostUnavailableError
from analytics.plans.steps import Pause, Take
from analytics.ring import HashRing
from analytics.stores import redispy, routing
from analytics.stores.cluster import ClusterTopology
from analytics.stores.aio_ring import AsyncRingClient
from analytics.stores.ring import ROUTE_CACHE_SIZE
from analytics.stores.routing import (Collect, Command, FixedTopology, Node, Post, Prepare, Refresh, ScanNode, Send,
                                      Topology)
from analytics.stores.settings import DEFAULT_TIMEOUT, client_node_name, describe
from analytics.stores.sync import IO_ERRORS, host_error

if sys.version_info >= (3, 11):
    _deadline = asyncio.timeout_at
else:  # pragma: no cover - Python < 3.11 has no asyncio.timeout_at; redis.asyncio brings async-timeout
    from async_timeout import timeout_at as _deadline  # type: ignore[import-not-found,no-redef]


#: Connections per host of a host list; more concurrent calls wait for one.
POOL_SIZE = 100
#: The longest a batch's packing or reading holds the event loop before letting other tasks run (seconds).
HOLD = 0.002
#: Replies read between two looks at the clock (a power of two, less one).
LOOK_EVERY = 63
#: Commands packed between two looks at the clock: about 1 ms without hiredis, far less with it.
SEND_PIECE = 128


class _Turn:
    """Lets other tasks run once :data:`HOLD` has passed since this task last did."""

    __slots__ = ("_until",)

    def __init__(self) -> None:
        self._until = time.monotonic() + HOLD

    async def take(self) -> None:
        if time.monotonic() > self._until:
            await asyncio.sleep(0)
            self._until = time.monotonic() + HOLD


class _Lease:
    """One node's connection during a batch: where it came from, its packed pipeline until it is written,
    and whether its replies are all read."""

    __slots__ = ("node", "conn", "packed", "done")

    def __init__(self, node: Node, conn: Any):
        self.node, self.conn, self.done = node, conn, False
        self.packed: List[bytes] = []


class Gate:
    """At most ``size`` holders at once, first come, first served.

    Its semaphore is made on first use, in the running event loop: on Python
    3.9 an asyncio primitive binds the loop current where it is made, and a
    backend may be built before its loop runs.
    """

    __slots__ = ("size", "_semaphore")

    def __init__(self, size: int):
        self.size = size
        self._semaphore: Optional[asyncio.Semaphore] = None

    async def acquire(self) -> None:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.size)
        await self._semaphore.acquire()

    def release(self) -> None:
        assert self._semaphore is not None
        self._semaphore.release()


async def _checkout(node: Node) -> Any:
    """A connected connection to ``node`` (connecting is part of checking out, as on the sync side)."""
    if node.gate is not None:
        await node.gate.acquire()
    try:
        return await _connect(node)
    except BaseException:
        if node.gate is not None:
            node.gate.release()
        raise


async def _connect(node: Node) -> Any:
    client = node.client
    if isinstance(client, redis.asyncio.cluster.ClusterNode):
        conn = client.acquire_connection()
    else:
        pool = client.connection_pool
        try:
            conn = await pool.get_connection()
        except TypeError:  # redis-py < 5.1 still wants a command name
            conn = await pool.get_connection("PIPELINE")
    try:
        if redispy.peer_closed(conn):
            await conn.disconnect(nowait=True)
        if not conn.is_connected:
            await conn.connect()
    except BaseException:
        await _give_back(node, conn, broken=True)
        raise
    return conn


async def _release(lease: _Lease, broken: bool) -> None:
    try:
        await _give_back(lease.node, lease.conn, broken)
    finally:
        if lease.node.gate is not None:
            lease.node.gate.release()


async def _give_back(node: Node, conn: Any, broken: bool) -> None:
    if broken:
        # No waiting: this may run while a cancellation is being delivered.
        await conn.disconnect(nowait=True)
    client = node.client
    if isinstance(client, redis.asyncio.cluster.ClusterNode):
        client.release(conn)
    else:
        await client.connection_pool.release(conn)


def node_timeout(node: Node) -> Optional[float]:
    client = node.client
    kwargs = client.connection_kwargs if isinstance(client, redis.asyncio.cluster.ClusterNode) \
        else client.connection_pool.connection_kwargs
    return kwargs.get("socket_timeout")


class Progress:
    """Which node a batch is waiting on, and whether its pipeline was sent: what a timeout names."""

    __slots__ = ("node", "sent")

    def __init__(self) -> None:
        self.node: Optional[Node] = None
        self.sent = False

    def at(self, node: Node, sent: bool) -> None:
        self.node, self.sent = node, sent


class _Posted:
    """Pipelines packed, then written and not yet read: a ticket from :func:`prepare_batches`."""

    __slots__ = ("batches", "atomic", "order", "leases", "failure", "written")

    def __init__(self, batches: Sequence[Tuple[Node, Sequence[Command]]], atomic: bool):
        self.batches = batches
        self.atomic = atomic
        # Connections are checked out in one global order (by node name): a call
        # holding one host's connection while it waits for another's pool can then
        # never wait on a call that waits for it.  Replies are read in it too.
        self.order = sorted(range(len(batches)), key=lambda i: batches[i][0].name)
        #: Each batch's connection, ``None`` where it could not be checked out or written.
        self.leases: List[Optional[_Lease]] = [None] * len(batches)
        #: The first host that failed while checking out or writing.
        self.failure: Optional[Exception] = None
        self.written = False

    async def drop(self) -> None:
        """Give back the connections of replies that will never be read (closed, if anything was written)."""
        for unread in self.leases:
            if unread is not None and not unread.done:
                unread.done = True
                await _release(unread, broken=self.written)


async def send_batches(batches: Sequence[Tuple[Node, Sequence[Command]]], atomic: bool,
                       progress: Optional[Progress] = None) -> List[List[Any]]:
    """Send every node its pipeline, all before reading any reply; return each node's replies.

    As :func:`analytics.stores.sync.send_batches`: error replies in place, a
    lost node raises :class:`HostUnavailableError` naming it once every other
    node's replies are read, nothing is re-sent.  Timeouts are the caller's
    deadline (see :meth:`AsyncStore.run`); ``progress`` tells it where the
    batch was when it struck.
    """
    progress = progress or Progress()
    posted = await post_batches(await prepare_batches(batches, atomic, progress), progress)
    return await collect_batches(posted, progress)


async def prepare_batches(batches: Sequence[Tuple[Node, Sequence[Command]]], atomic: bool,
                          progress: Progress) -> _Posted:
    """The first step of :func:`send_batches`: a connection checked out and the pipeline packed per node."""
    posted = _Posted(batches, atomic)
    leases = posted.leases
    try:
        for i in posted.order:
            node, commands = batches[i]
            progress.at(node, sent=False)
            try:
                fresh = _Lease(node, await _checkout(node))
            except IO_ERRORS + (redis.exceptions.ResponseError,) as exc:
                posted.failure = posted.failure or host_error(node, exc, applied=False)
                continue
            leases[i] = fresh
            wire = routing.wrap(commands, atomic)
            turn = _Turn()
            for start in range(0, len(wire), SEND_PIECE):
                # Packing a bulk load's pipeline takes a while (16 us a
                # command without hiredis): other tasks get their turn.
                await turn.take()
                fresh.packed += redispy.pack(fresh.conn, wire[start:start + SEND_PIECE])
    except BaseException:
        await posted.drop()
        raise
    return posted


async def post_batches(posted: _Posted, progress: Progress) -> _Posted:
    """The second step of :func:`send_batches`: every packed pipeline written, no reply read."""
    posted.written = True
    leases = posted.leases
    try:
        for i in posted.order:
            fresh = leases[i]
            if fresh is None:
                continue
            progress.at(fresh.node, sent=False)
            packed, fresh.packed = fresh.packed, []
            try:
                await redispy.async_send(fresh.conn, packed)
            except (redis.exceptions.RedisError, OSError) as exc:
                fresh.done = True
                leases[i] = None
                await _release(fresh, broken=True)
                posted.failure = posted.failure or host_error(fresh.node, exc, applied=None)
    except BaseException:
        await posted.drop()
        raise
    return posted


async def collect_batches(posted: _Posted, progress: Progress, errors: bool = False) -> List[List[Any]]:
    """The last step of :func:`send_batches`: every reply read, each connection back in its pool.

    With ``errors``, only each node's error replies are kept (see
    :class:`~analytics.stores.routing.Collect`).
    """
    batches, leases, atomic = posted.batches, posted.leases, posted.atomic
    results: List[List[Any]] = [[] for _ in batches]
    failure = posted.failure
    try:
        for i in posted.order:
            lease = leases[i]
            if lease is None:
                continue
            node, commands = batches[i]
            progress.at(node, sent=True)
            count = len(commands)
            await redispy.async_reply_wait(lease.conn)
            read = redispy.async_reply_reader(lease.conn)
            try:
                replies = []
                turn = _Turn()
                for index in range(count + 2 if atomic else count):
                    if index & LOOK_EVERY == LOOK_EVERY:
                        # Buffered replies are read without ever suspending: a bulk
                        # load's would hold the event loop for its whole batch.
                        await turn.take()
                    replies.append(await read())
            except IO_ERRORS as exc:
                lease.done = True
                await _release(lease, broken=True)
                failure = failure or host_error(node, exc, applied=None)
                continue
            lease.done = True
            await _release(lease, broken=False)
            results[i] = [reply for reply in replies if isinstance(reply, Exception)] if errors \
                else routing.unwrap(replies, count, atomic)
    except BaseException:
        await posted.drop()
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
        progress = Progress()
        # The tickets prepared and not yet collected: a bulk load's next chunk, and the one before it.
        posted: Optional[_Posted] = None
        older: Optional[_Posted] = None
        try:
            request = next(flow)
            while True:
                try:
                    if timeout is None or type(request) is Pause:
                        answer = await self.perform(request, progress)
                    elif type(request) is Take:
                        answer = await self.perform(request, progress)
                        # Reading the caller's input is not Redis' time: a bulk load fed by a slow
                        # stream (an HTTP upload) gets the whole timeout for each chunk it sends.
                        deadline = loop.time() + timeout
                    else:
                        try:
                            async with _deadline(deadline):
                                answer = await self.perform(request, progress)
                        except (asyncio.TimeoutError, TimeoutError) as exc:
                            late = progress.node
                            raise HostTimeoutError(late.name if late else "(no node reached)", exc,
                                                   applied=None if progress.sent else False) from None
                    if type(request) is Prepare:
                        older, posted = posted, answer
                except Exception as exc:
                    request = flow.throw(exc)
                else:
                    request = flow.send(answer)
        except StopIteration as done:
            return done.value
        finally:
            for ticket in (older, posted):
                if ticket is not None:
                    await ticket.drop()  # only a flow that ended early (a cancellation) left one unread

    async def perform(self, request: Any, progress: Optional[Progress] = None) -> Any:
        kind = type(request)
        if kind is Send:
            self.round_trips += len(request.batches)
            return await send_batches(request.batches, request.atomic, progress)
        if kind is Prepare:
            return await prepare_batches(request.batches, False, progress or Progress())
        if kind is Post:
            self.round_trips += len(request.ticket.batches)
            return await post_batches(request.ticket, progress or Progress())
        if kind is Collect:
            return await collect_batches(request.ticket, progress or Progress(), errors=True)
        if kind is Pause:
            await asyncio.sleep(0)
            return None
        if kind is Take:
            stream = request.stream
            await asyncio.sleep(0)  # a bulk load reads its input in pieces: let other tasks run between them
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
            reply = (await send_batches([(request.node, [scan])], atomic=False, progress=progress))[0][0]
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
        self.topology.reloaded()

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
            return AsyncStore(FixedTopology([node], lambda key: node), client, timeout=kwargs.get("socket_timeout"))
        from analytics.errors import ConfigurationError

        raise ConfigurationError("settings['client'] of the asyncio backend must be a redis.asyncio.Redis or "
                                 "redis.asyncio.cluster.RedisCluster, got %r" % (client,))
    nodes = [_host_node(spec.name, spec.options) for spec in described]
    ring = HashRing([spec.identifier for spec in described])
    timeouts = [spec.options["socket_timeout"] for spec in described if spec.options["socket_timeout"] is not None]
    return AsyncStore(FixedTopology(nodes, ring.placer(nodes), cache_size=ROUTE_CACHE_SIZE),
                      AsyncRingClient(nodes, ring, ring.node_for),
                      timeout=max(timeouts) if timeouts else None)


def _host_node(name: str, options: Mapping[str, Any]) -> Node:
    """A host of a host list, with at most :data:`POOL_SIZE` connections in use at once.

    redis.asyncio's default pool raises ``MaxConnectionsError`` beyond 100
    connections, so 1,000 concurrent calls would fail, and its blocking pool
    lets late callers overtake waiting ones, so some waited for tens of
    seconds.  A semaphore queues the calls in turn instead (within their
    deadline), in front of a pool that is never exhausted.
    """
    # The sync client's "never retry" (see settings.py), as redis.asyncio's own
    # kind: redis-py 8.2 converts a sync Retry with a warning per client.
    options = dict(options, retry=redis.asyncio.retry.Retry(NoBackoff(), 0))
    client = redis.asyncio.Redis(max_connections=2 ** 31, **options)
    return Node(name, client, Gate(POOL_SIZE))


def _cluster_store(client: Any, timeout: Optional[float]) -> AsyncStore:
    topology = ClusterTopology(client, lambda cluster_node: Node(cluster_node.name, cluster_node))
    topology.stale = True  # redis.asyncio loads the slot map on first use, as this store does
    return AsyncStore(topology, client, cluster=client, timeout=timeout)
