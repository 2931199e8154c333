"""The blocking driver: carries out the routing flows' I/O on redis-py's sync connections.

Only this module (and its asyncio twin, :mod:`analytics.stores.aio`) writes to
or reads from a socket.  It knows nothing of metrics or dates: it runs flows
(:mod:`analytics.stores.routing`) and answers their requests.
"""
import itertools
import time
from typing import Any, Generator, List, Optional, Sequence, Tuple

import redis
import redis.exceptions

from analytics.errors import ClosedError, ConfigurationError, HostTimeoutError, HostUnavailableError
from analytics.plans.steps import Pause, Take
from analytics.stores import redispy, routing
from analytics.stores.routing import Collect, Command, Node, Post, Prepare, Refresh, ScanNode, Send, Topology

#: A host that cannot be reached, stops answering, or answers with something that is not Redis.
IO_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.InvalidResponse,
             OSError)


def host_error(node: Node, exc: BaseException, applied: Optional[bool]) -> Exception:
    """The library's error for a redis-py connection failure or timeout on ``node``.

    A server that refuses the connection's own set-up (a ``db`` it does not
    have) is a settings error naming the host, not an unavailable host.
    """
    if isinstance(exc, HostUnavailableError):
        return exc
    if isinstance(exc, redis.exceptions.ResponseError):
        return ConfigurationError("Redis host %s refused the connection set-up: %s (check its db, username and "
                                  "password settings)" % (node.name, exc))
    cls = HostTimeoutError if isinstance(exc, (redis.exceptions.TimeoutError, TimeoutError)) else HostUnavailableError
    return cls(node.name, exc, applied)


class Posted:
    """Pipelines packed, then written and not yet read: a ticket from :func:`prepare_batches`."""

    __slots__ = ("batches", "atomic", "sent", "packed", "written", "failure", "done")

    def __init__(self, batches: Sequence[Tuple[Node, Sequence[Command]]], atomic: bool):
        self.batches = batches
        self.atomic = atomic
        #: Each batch's connection, ``None`` where it could not be checked out or written.
        self.sent: List[Any] = []
        #: Each batch's packed pipeline, until it is written.
        self.packed: List[Any] = []
        self.written = False
        #: The first host that failed while checking out or writing.
        self.failure: Optional[Exception] = None
        #: Whether every connection went back to its pool.
        self.done = False

    def drop(self) -> None:
        """Give back the connections of replies that will never be read (closed, if anything was written)."""
        if not self.done:
            self.done = True
            _drop(zip((node for node, _ in self.batches), self.sent), close=self.written)


def send_batches(batches: Sequence[Tuple[Node, Sequence[Command]]], atomic: bool,
                 deadline: Optional[float] = None) -> List[List[Any]]:
    """Send every node its commands as one pipeline and return each node's replies.

    All pipelines are written before any reply is read, so the nodes work in
    parallel without threads.  Error replies come back in place as exception
    objects; a node that cannot be reached or stops answering raises
    :class:`HostUnavailableError` naming it, after every other node's replies
    have been read.  Nothing is ever re-sent.  Reading stops at ``deadline``
    (``time.monotonic()``), however slowly a host trickles its replies.
    """
    return collect_batches(post_batches(prepare_batches(batches, atomic)), deadline)


def prepare_batches(batches: Sequence[Tuple[Node, Sequence[Command]]], atomic: bool) -> Posted:
    """The first step of :func:`send_batches`: a connection checked out and the pipeline packed per node."""
    posted = Posted(batches, atomic)
    sent, packed = posted.sent, posted.packed
    try:
        for node, commands in batches:
            try:
                conn = redispy.checkout(node.client.connection_pool)
            except IO_ERRORS + (redis.exceptions.ResponseError,) as exc:
                posted.failure = posted.failure or host_error(node, exc, applied=False)
                sent.append(None)
                packed.append(None)
                continue
            sent.append(conn)
            packed.append(redispy.pack(conn, routing.wrap(commands, atomic)))
    except BaseException:
        posted.drop()
        raise
    return posted


def post_batches(posted: Posted) -> Posted:
    """The second step of :func:`send_batches`: every packed pipeline written, no reply read."""
    posted.written = True
    sent, packed = posted.sent, posted.packed
    for position, (node, _) in enumerate(posted.batches):
        conn = sent[position]
        if conn is None:
            continue
        try:
            conn.send_packed_command(packed[position], check_health=False)
        except BaseException as exc:
            conn.disconnect()
            node.client.connection_pool.release(conn)
            sent[position] = None
            if not isinstance(exc, (redis.exceptions.RedisError, OSError)):
                posted.drop()
                raise
            posted.failure = posted.failure or host_error(node, exc, applied=None)
    posted.packed = []
    return posted


def collect_batches(posted: Posted, deadline: Optional[float] = None, errors: bool = False) -> List[List[Any]]:
    """The last step of :func:`send_batches`: every reply read, each connection back in its pool.

    With ``errors``, only each node's error replies are kept (see
    :class:`~analytics.stores.routing.Collect`).
    """
    batches, sent, atomic = posted.batches, posted.sent, posted.atomic
    failure = posted.failure
    results: List[List[Any]] = []
    for position, ((node, commands), conn) in enumerate(zip(batches, sent)):
        if conn is None:
            results.append([])
            continue
        try:
            count = len(commands)
            redispy.reply_wait(conn)
            if errors:
                results.append(redispy.read_errors(conn, count, deadline))
            else:
                replies = redispy.read_replies(conn, count + 2 if atomic else count, deadline)
                results.append(routing.unwrap(replies, count, atomic))
        except BaseException as exc:
            conn.disconnect()
            if not isinstance(exc, IO_ERRORS):
                posted.done = True
                _drop(zip((node for node, _ in batches[position + 1:]), sent[position + 1:]))
                raise
            failure = failure or host_error(node, exc, applied=None)
            results.append([])
        finally:
            node.client.connection_pool.release(conn)
    posted.done = True
    if failure is not None:
        raise failure
    return results


def _drop(pairs: Any, close: bool = True) -> None:
    """Give back connections whose replies will not be read (an interrupt, e.g. a request timeout).

    Back in the pool unread they would hand the next call these replies; kept
    out of it they would leak a socket per interrupted call.  So they are
    closed first, unless nothing was written on them (``close=False``).
    """
    for node, conn in pairs:
        if conn is not None:
            if close:
                conn.disconnect()
            node.client.connection_pool.release(conn)


def longest_timeout(kwargs: Sequence[Any]) -> Optional[float]:
    """The call timeout of nodes with these connection keyword arguments: their longest socket timeout."""
    timeouts = [k.get("socket_timeout") for k in kwargs if k.get("socket_timeout") is not None]
    return max(timeouts) if timeouts else None


class SyncStore:
    """Where a sync backend's plans run: a :class:`~analytics.stores.routing.Topology` and this driver."""

    def __init__(self, topology: Topology, timeout: Optional[float] = None):
        self.topology = topology
        #: Seconds a whole call may take (the ``timeout`` setting); ``None``: no bound.
        self.timeout = timeout
        #: Pipelines sent (one per node per batch): tests and benchmarks count round trips with it.
        self.round_trips = 0
        #: How many times the slot map was reloaded (clusters).
        self.topology_refreshes = 0
        self.closed = False

    def run(self, flow: Generator[Any, Any, Any]) -> Any:
        """Drive a flow to its end, answering each request; return its result."""
        if self.closed:
            raise ClosedError("this analytics backend is closed")
        perform, timeout = self.perform, self.timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        # The tickets prepared and not yet collected: a bulk load's next chunk, and the one before it.
        posted: Optional[Posted] = None
        older: Optional[Posted] = None
        try:
            request = next(flow)
            while True:
                try:
                    answer = perform(request, deadline)
                    kind = type(request)
                    if kind is Prepare:
                        older, posted = posted, answer
                    elif timeout is not None and kind is Take:
                        # A bulk load gets the whole timeout for each chunk, as on asyncio.
                        deadline = time.monotonic() + timeout
                except Exception as exc:
                    request = flow.throw(exc)
                else:
                    request = flow.send(answer)
        except StopIteration as done:
            return done.value
        finally:
            for ticket in (older, posted):
                if ticket is not None:
                    ticket.drop()  # only a flow that ended early left one unread

    def perform(self, request: Any, deadline: Optional[float] = None) -> Any:
        kind = type(request)
        if kind is Send:
            self.round_trips += len(request.batches)
            return send_batches(request.batches, request.atomic, deadline)
        if kind is Prepare:
            return prepare_batches(request.batches, False)
        if kind is Post:
            self.round_trips += len(request.ticket.batches)
            return post_batches(request.ticket)
        if kind is Collect:
            return collect_batches(request.ticket, deadline, errors=True)
        if kind is Pause:
            return None
        if kind is Take:
            if hasattr(request.stream, "__anext__"):
                raise TypeError("events is an async iterable: use the asyncio backend (analytics.aio)")
            return list(itertools.islice(request.stream, request.size))
        if kind is ScanNode:
            node = request.node
            try:
                return node.client.scan(cursor=request.cursor, match=request.pattern, count=request.count)
            except IO_ERRORS as exc:
                raise host_error(node, exc, applied=None) from exc
        if kind is Refresh:
            return self.refresh(request.failed, request.applied)
        raise TypeError("unknown request %r" % (request,))

    def refresh(self, failed: Optional[str] = None, applied: Optional[bool] = False) -> None:
        raise NotImplementedError  # only a cluster's topology asks for it

    def execute(self, commands: Sequence[Command], atomic: bool = True) -> List[Any]:
        """Run ``commands`` with one pipeline per node and return their replies in order."""
        return self.run(routing.execute(self.topology, commands, atomic))

    def apply(self, commands: Sequence[Command]) -> None:
        """Run ``commands`` for their effect only (see :func:`routing.apply`)."""
        self.run(routing.apply(self.topology, commands))

    def primaries(self) -> List[Node]:
        return self.topology.primaries()

    def native(self) -> Any:
        """The object :meth:`BaseAnalyticsBackend.get_backend` hands to applications."""
        raise NotImplementedError

    def close(self) -> None:
        """Close every connection the store opened; later calls raise :class:`ClosedError`."""
        self.closed = True
        for node in self.topology.primaries():
            node.client.close()
