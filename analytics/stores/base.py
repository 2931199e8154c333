"""The batch-of-commands interface and the pipelining that all stores share."""
import abc
import functools
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import redis
import redis.exceptions

from analytics.errors import HostTimeoutError, HostUnavailableError

#: ``(COMMAND, key, *args)``: every command the backend sends touches one key,
#: which :func:`command_key` finds (``EVAL script 1 key ...`` has it fourth).
Command = Tuple[Any, ...]


def command_key(command: Command) -> Any:
    """The key a command touches, which decides the node it runs on."""
    return command[3] if command[0] == "EVAL" else command[1]


_hiredis_pack: Optional[Callable[..., bytes]] = None
if getattr(redis.utils, "HIREDIS_AVAILABLE", False):
    from hiredis import pack_command as _hiredis_pack
_HiredisParser: Any = None
try:
    from redis._parsers import _HiredisParser
except ImportError:  # pragma: no cover - redis-py < 5
    pass


def pack(conn: Any, commands: Sequence[Command]) -> List[bytes]:
    """The bytes of ``commands`` as ``conn.send_packed_command`` takes them.

    When redis-py itself packs with hiredis, so does this, with one C call per
    command and none of redis-py's per-command Python work, which costs several
    times more and was the largest client-side cost of a bulk load.  The bytes
    are the same.
    """
    if _hiredis_pack is not None:
        try:
            return [b"".join([_hiredis_pack(command) for command in commands])]
        except TypeError:
            pass  # redis-py's packer then raises its own DataError for the bad argument
    return conn.pack_commands(commands)

SCAN_BATCH = 1000
#: Keys whose node is remembered (about 100 bytes each).
ROUTE_CACHE_SIZE = 65536


class Node:
    """One Redis server: a client (and its connection pool) and the name errors use."""

    __slots__ = ("name", "client")

    def __init__(self, name: str, client: redis.Redis):
        self.name = name
        self.client = client

    def __repr__(self) -> str:
        return "Node(%r)" % (self.name,)


def _checkout(node: Node):
    pool = node.client.connection_pool
    try:
        return pool.get_connection()
    except TypeError:  # redis-py < 5.1 still wants a command name
        return pool.get_connection("PIPELINE")


def host_error(node: Node, exc: BaseException, applied: Optional[bool]) -> HostUnavailableError:
    """The library's error for a redis-py connection failure or timeout on ``node``."""
    if isinstance(exc, HostUnavailableError):
        return exc
    cls = HostTimeoutError if isinstance(exc, (redis.exceptions.TimeoutError, TimeoutError)) else HostUnavailableError
    return cls(node.name, exc, applied)


def send_batches(batches: Sequence[Tuple[Node, Sequence[Command]]], atomic: bool) -> List[List[Any]]:
    """Send every node its commands as one pipeline and return each node's replies.

    All pipelines are written before any reply is read, so the nodes work in
    parallel without threads.  With ``atomic`` each pipeline is wrapped in
    MULTI/EXEC, so a node applies all of its commands or none.  Error replies
    come back in place as exception objects; a node that cannot be reached or
    stops answering raises :class:`HostUnavailableError` naming it, after every
    other node's replies have been read.  Nothing is ever re-sent: a batch that
    may have been applied is never applied twice.
    """
    sent: List[Any] = []
    failure: Optional[HostUnavailableError] = None
    for node, commands in batches:
        try:
            conn = _checkout(node)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
            failure = failure or host_error(node, exc, applied=False)
            sent.append(None)
            continue
        except BaseException:
            _drop(zip((node for node, _ in batches), sent))
            raise
        wire = [("MULTI",), *commands, ("EXEC",)] if atomic else commands
        try:
            conn.send_packed_command(pack(conn, wire), check_health=False)
        except BaseException as exc:
            conn.disconnect()
            node.client.connection_pool.release(conn)
            if not isinstance(exc, (redis.exceptions.RedisError, OSError)):
                _drop(zip((node for node, _ in batches), sent))
                raise
            failure = failure or host_error(node, exc, applied=None)
            sent.append(None)
            continue
        sent.append(conn)

    results: List[List[Any]] = []
    for position, ((node, commands), conn) in enumerate(zip(batches, sent)):
        if conn is None:
            results.append([])
            continue
        try:
            results.append(_read_replies(conn, len(commands), atomic))
        except BaseException as exc:
            conn.disconnect()
            if not isinstance(exc, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)):
                _drop(zip((node for node, _ in batches[position + 1:]), sent[position + 1:]))
                raise
            failure = failure or host_error(node, exc, applied=None)
            results.append([])
        finally:
            node.client.connection_pool.release(conn)
    if failure is not None:
        raise failure
    return results


def _drop(pairs: Iterator[Tuple[Node, Any]]) -> None:
    """Close connections whose replies will not be read (an interrupt, e.g. a request timeout).

    Back in the pool unread they would hand the next call these replies; kept
    out of it they would leak a socket per interrupted call.
    """
    for node, conn in pairs:
        if conn is not None:
            conn.disconnect()
            node.client.connection_pool.release(conn)


def _reply_reader(conn: Any) -> Callable[[], Any]:
    """A function returning ``conn``'s next reply, an error reply as its exception object.

    With redis-py's hiredis parser the parser itself is read: it already hands
    error replies back as objects, and skips the per-reply message formatting
    and re-raising of ``Connection.read_response``, which took as long as the
    parsing (a bulk load reads one reply per command).  Connection failures
    raise from either path the same way.
    """
    parser: Any = getattr(conn, "_parser", None)
    if _HiredisParser is not None and type(parser) is _HiredisParser:
        return parser.read_response

    def read() -> Any:
        try:
            return conn.read_response()
        except redis.exceptions.ResponseError as exc:
            return exc

    return read


def _read_replies(conn, count: int, atomic: bool) -> List[Any]:
    read = _reply_reader(conn)
    replies = [read() for _ in range(count + 2 if atomic else count)]
    if not atomic:
        return replies
    executed = replies[-1]
    if isinstance(executed, Exception):
        # EXECABORT: a command was refused while queueing; report that one.
        refused = next((r for r in replies[1:-1] if isinstance(r, Exception)), executed)
        return [refused] * count
    return list(executed)


def raise_errors(replies: Sequence[Any]) -> None:
    """Raise the first error reply, if any (after the whole batch ran)."""
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply


class Store(abc.ABC):
    """Where the backend's commands go.

    Implementations differ only in how keys map to nodes; the backend never asks
    which one it has.
    """

    #: How many pipelines have been sent (one per node per :meth:`execute`); tests
    #: and benchmarks read it to count round trips exactly.
    round_trips = 0

    @abc.abstractmethod
    def execute(self, commands: Sequence[Command], atomic: bool = True) -> List[Any]:
        """Run ``commands`` with one pipeline per node and return their replies in order.

        Error replies are raised (the first one) after every command ran.
        """

    def apply(self, commands: Sequence[Command]) -> None:
        """Run ``commands`` for their effect only, each on its own (no MULTI/EXEC).

        One pipeline per node; the first error reply is raised after every
        command ran.  Stores may skip putting replies back in order, which a
        bulk load does not need.
        """
        self.execute(commands, atomic=False)

    @abc.abstractmethod
    def primaries(self) -> List[Node]:
        """Every node that holds data, for whole-keyspace walks."""

    @abc.abstractmethod
    def native(self) -> Any:
        """The object :meth:`BaseAnalyticsBackend.get_backend` hands to applications."""

    def scan(self, pattern: str, batch: int = SCAN_BATCH) -> Iterator[Tuple[Node, List[Any]]]:
        """Yield ``(node, keys)`` pages of the keys matching ``pattern`` on every node."""
        for node in self.primaries():
            cursor = 0
            while True:
                try:
                    cursor, keys = node.client.scan(cursor=cursor, match=pattern, count=batch)
                except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
                    raise host_error(node, exc, applied=None) from exc
                if keys:
                    yield node, keys
                if int(cursor) == 0:
                    break

    def delete_matching(self, pattern: str, batch: int = SCAN_BATCH) -> int:
        """Delete every key matching ``pattern`` on every node, a SCAN page at a time."""
        deleted = 0
        for node, keys in self.scan(pattern, batch):
            replies = send_batches([(node, [("UNLINK", key) for key in keys])], atomic=False)[0]
            raise_errors(replies)
            deleted += sum(replies)
        return deleted

    def close(self) -> None:
        """Close every connection the store opened."""
        for node in self.primaries():
            node.client.close()


class NodeStore(Store):
    """A store over a fixed list of nodes, with a key -> node index function."""

    def __init__(self, nodes: Sequence[Node]):
        self.nodes = list(nodes)
        # Placing a key hashes it; the same uids' keys come back call after call.
        self._cached_route = functools.lru_cache(maxsize=ROUTE_CACHE_SIZE)(self.route)

    @abc.abstractmethod
    def route(self, key: str) -> int:
        """The index of the node that holds ``key``."""

    def primaries(self) -> List[Node]:
        return list(self.nodes)

    def apply(self, commands: Sequence[Command]) -> None:
        if len(self.nodes) == 1 or not commands:
            self.execute(commands, atomic=False)
            return
        per_node: Dict[int, List[Command]] = {}
        route = self._cached_route
        for command in commands:
            # command_key(), inlined: this loop runs once per command of a bulk load.
            index = route(command[3] if command[0] == "EVAL" else command[1])
            batch = per_node.get(index)
            if batch is None:
                batch = per_node[index] = []
            batch.append(command)
        self.round_trips += len(per_node)
        for replies in send_batches([(self.nodes[index], batch) for index, batch in per_node.items()], False):
            raise_errors(replies)

    def execute(self, commands: Sequence[Command], atomic: bool = True) -> List[Any]:
        if not commands:
            return []
        if len(self.nodes) == 1:
            self.round_trips += 1
            replies = send_batches([(self.nodes[0], commands)], atomic)[0]
        else:
            positions: Dict[int, List[int]] = {}
            route = self._cached_route
            for pos, command in enumerate(commands):
                # command_key(), inlined: this loop runs once per command of every call.
                index = route(command[3] if command[0] == "EVAL" else command[1])
                where = positions.get(index)
                if where is None:
                    where = positions[index] = []
                where.append(pos)
            order = list(positions.items())
            self.round_trips += len(order)
            per_node = send_batches(
                [(self.nodes[index], [commands[p] for p in where]) for index, where in order], atomic
            )
            replies = [None] * len(commands)
            for (_, where), node_replies in zip(order, per_node):
                for pos, reply in zip(where, node_replies):
                    replies[pos] = reply
        raise_errors(replies)
        return replies
