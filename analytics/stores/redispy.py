"""Every redis-py detail below its public API that the drivers rely on, in one place.

Tested on redis-py 6.2 to 8.1 (the CI matrix, tests/matrix.py, runs the lowest, 6.2.0, and the newest).
Each use is guarded: when an internal is missing or not what is expected, the
drivers fall back to redis-py's public connection methods, which give the same
bytes and replies, only slower.

* ``hiredis.pack_command`` packs a pipeline in one C call per command;
* the hiredis parsers (``redis._parsers._HiredisParser`` and its asyncio twin),
  and redis-py's own (``_RESP2Parser``, ``_RESP3Parser`` and their asyncio
  twins), are read directly: they hand error replies back as objects (and a
  RESP3 push to its handler), so no exception is raised and caught per error
  reply, and no per-reply timeout is set up;
  on RESP2, and on RESP3 where redis-py knows hiredis' push type (8.x:
  ``_hiredis_PushNotificationType``, ``handle_push_response()``), the sync
  one's hiredis reader is asked for replies itself (``_reader.gets()``,
  ``read_from_socket(timeout=...)``, ``NOT_ENOUGH_DATA``), each read bounded
  by the call's deadline;
* ``Connection.send_packed_command(..., check_health=False)``, and on the
  asyncio side a connected connection's stream writer (``_writer``), written
  directly (see :func:`async_send`);
* an asyncio connection's stream reader (``_reader.at_eof()``, see
  :func:`peer_closed`, and its buffer ``_reader._buffer``, see :func:`async_reply_wait`);
* a sync connection's socket (``_sock``), looked at before a reply is read (:func:`reply_wait`);
* elsewhere, where a sync parser holds its socket (``_parser._sock`` for
  hiredis, ``_parser._buffer._sock`` for redis-py's own), to bound a whole
  call's reads by its deadline (:func:`read_replies`);
* a cluster client's ``nodes_manager`` (``slots_cache``, ``initialize``), and on
  the asyncio side a ``ClusterNode``'s own connections (``acquire_connection``,
  ``release``).
"""
import asyncio
import inspect
import select
import socket
import time
from typing import Any, Awaitable, Callable, List, Optional, Sequence, Tuple

import redis
import redis.exceptions

_hiredis_pack: Optional[Callable[..., bytes]] = None
if getattr(redis.utils, "HIREDIS_AVAILABLE", False):
    import hiredis

    _hiredis_pack = hiredis.pack_command
_HiredisParser: Any = None
_AsyncHiredisParser: Any = None
#: redis-py's own parsers, read directly too (see :func:`reply_reader`).
_OWN_PARSERS: Tuple[Any, ...] = ()
_ASYNC_OWN_PARSERS: Tuple[Any, ...] = ()
try:
    from redis._parsers import _AsyncHiredisParser, _HiredisParser
    from redis._parsers import _AsyncRESP2Parser, _AsyncRESP3Parser, _RESP2Parser, _RESP3Parser

    _OWN_PARSERS = (_RESP2Parser, _RESP3Parser)
    _ASYNC_OWN_PARSERS = (_AsyncRESP2Parser, _AsyncRESP3Parser)
except ImportError:  # pragma: no cover - redis-py < 5
    pass
#: What redis-py's hiredis reader returns for "no whole reply buffered yet" (``None`` if unknown).
_NOT_ENOUGH_DATA: Any = None
try:
    from redis._parsers.hiredis import NOT_ENOUGH_DATA as _NOT_ENOUGH_DATA
except ImportError:  # pragma: no cover - another layout: replies are read one by one
    pass


def pack(conn: Any, commands: Sequence[Any]) -> List[bytes]:
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


def checkout(pool: Any) -> Any:
    """A connection from a sync pool (redis-py < 5.1 still wants a command name)."""
    try:
        return pool.get_connection()
    except TypeError:
        return pool.get_connection("PIPELINE")


def reply_reader(conn: Any) -> Callable[[], Any]:
    """A function returning ``conn``'s next reply, an error reply as its exception object."""
    parser: Any = getattr(conn, "_parser", None)
    if parser is not None and (type(parser) is _HiredisParser or type(parser) in _OWN_PARSERS):
        return parser.read_response

    def read() -> Any:
        try:
            return conn.read_response()
        except redis.exceptions.ResponseError as exc:
            return exc

    return read


#: Seconds a read may outlast a call's deadline rather than change the socket's timeout.
GRACE = 0.01


def _read_timeout(deadline: float, own: Optional[float]) -> Optional[float]:
    """The timeout a read needs to end by ``deadline`` (``<= 0``: it has passed).

    ``None`` while the socket's own timeout ``own`` already ends the read
    within :data:`GRACE` of the deadline: setting a timeout costs system
    calls, and on a small call cost 14% of its time.  Once a read needs the
    deadline's timeout, every later one does (the time left only shrinks).
    """
    left = deadline - time.monotonic()
    return left if left <= 0 or own is None or left < own - GRACE else None


class _DeadlineSocket:
    """A socket whose every read is bounded by what is left until a deadline.

    A socket timeout bounds each read on its own: a host trickling one byte
    every half second never trips a one-second timeout, and held a call for
    minutes.  Through this, every read gets only the rest of the call's time.
    While the socket's own timeout already bounds a read (see
    :func:`_read_timeout`), it is left alone.
    """

    __slots__ = ("_sock", "_deadline", "_own", "armed")

    def __init__(self, sock: Any, deadline: float, own: Optional[float]):
        self._sock = sock
        self._deadline = deadline
        self._own = own
        #: Whether the socket's timeout was changed (and must be put back).
        self.armed = False

    def _arm(self) -> None:
        left = _read_timeout(self._deadline, self._own)
        if left is None:
            return
        if left <= 0:
            raise socket.timeout("the call's deadline has passed")
        self._sock.settimeout(left)
        self.armed = True

    def recv_into(self, *args: Any) -> int:
        self._arm()
        return self._sock.recv_into(*args)

    def recv(self, *args: Any) -> bytes:
        self._arm()
        return self._sock.recv(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


#: ``(n, deadline) -> replies``: the two functions :func:`_hiredis_reading` makes.
Reading = Callable[[int, Optional[float]], List[Any]]


def _hiredis_reading(conn: Any) -> Optional[Tuple[Reading, Reading]]:
    """Functions reading ``conn``'s next replies from its hiredis reader, or ``None``.

    Where redis-py's hiredis parser is used on RESP2, or on RESP3 where the
    parser knows hiredis' push type (a push between replies is then handed to
    redis-py as it would be), its reader is asked for whole replies directly:
    ``read_response`` per reply costs several times the parsing (a bulk load
    reads one reply per command).  Each read from the socket is bounded by
    what is left until the deadline the functions are given (see
    :func:`_read_timeout`).  They are made once per reader (a reconnect makes
    new ones) and kept on the connection: on a small call, making them cost
    as much as reading the replies.

    The first, ``(n, deadline)``, returns the next ``n`` replies; the second
    (see :func:`read_errors`) only their error replies.
    """
    parser: Any = getattr(conn, "_parser", None)
    reader = getattr(parser, "_reader", None)
    made = getattr(conn, _READING, None)
    if made is not None and made[0] is reader:
        # redis-py may hold a reply it read ahead of us (can_read()): let it hand that over.
        return made[1] if getattr(parser, "_next_response", _NOT_ENOUGH_DATA) is _NOT_ENOUGH_DATA else None
    push = getattr(parser, "_hiredis_PushNotificationType", None)
    if (_NOT_ENOUGH_DATA is None or type(parser) is not _HiredisParser or reader is None
            or (getattr(conn, "protocol", None) not in (None, 2, "2") and push is None)):
        return None
    gets, waiting, failed = reader.gets, _NOT_ENOUGH_DATA, redis.exceptions.ConnectionError
    read, timeout = parser.read_from_socket, conn.socket_timeout

    def replies(n: int, deadline: Optional[float]) -> List[Any]:
        found: List[Any] = []
        append = found.append
        for _ in range(n):
            reply = gets()
            while reply is waiting or type(reply) is push:
                if reply is not waiting:
                    parser.handle_push_response(reply)
                elif deadline is None:
                    read()
                else:
                    left = _read_timeout(deadline, timeout)
                    if left is None:
                        read()
                    elif left <= 0:
                        raise redis.exceptions.TimeoutError("Timeout reading from socket")
                    else:
                        read(timeout=left)
                reply = gets()
            if isinstance(reply, failed) or (type(reply) is list and reply and isinstance(reply[0], failed)):
                raise reply if isinstance(reply, failed) else reply[0]
            append(reply)
        return found

    has_data = getattr(reader, "has_data", None)

    def errors(n: int, deadline: Optional[float]) -> List[Any]:
        sock = parser._sock
        if sock is None or has_data is None or has_data():
            return [reply for reply in replies(n, deadline) if isinstance(reply, Exception)]
        # Replies of integers and statuses are single lines (":12\r\n",
        # "+OK\r\n"): counting line ends in the bytes as they come is all a
        # bulk load needs.  Anything else from the first piece that has it on
        # (an error reply, a push) goes to hiredis, which reads the rest.
        armed = False
        tail = b""
        try:
            while n:
                if deadline is not None:
                    left = _read_timeout(deadline, timeout)
                    if left is not None:
                        if left <= 0:
                            raise redis.exceptions.TimeoutError("Timeout reading from socket")
                        sock.settimeout(left)
                        armed = True
                data = sock.recv(_DRAIN_READ)
                if not data:
                    raise redis.exceptions.ConnectionError("Connection closed by server.")
                if tail:
                    data = tail + data
                ends = data.count(b"\n")
                whole = data[-1] == 10
                plain = (data[0] in b":+") + data.count(b"\n:") + data.count(b"\n+")
                if ends > n or plain != (ends if whole else ends + 1):
                    reader.feed(data)
                    return [reply for reply in replies(n, deadline) if isinstance(reply, Exception)]
                n -= ends
                tail = b"" if whole else data[data.rfind(b"\n") + 1:]
            return []
        except socket.timeout:
            raise redis.exceptions.TimeoutError("Timeout reading from socket") from None
        finally:
            if armed:
                try:
                    sock.settimeout(timeout)
                except OSError:
                    pass  # the connection was closed meanwhile

    try:
        setattr(conn, _READING, (reader, (replies, errors)))
    except AttributeError:
        pass  # a connection class without room for it: made again next time
    return (replies, errors) if getattr(parser, "_next_response", _NOT_ENOUGH_DATA) is _NOT_ENOUGH_DATA else None


#: Where :func:`_hiredis_reading` keeps a connection's reading functions.
_READING = "_analytics_reading"
#: Bytes asked of the socket at a time while counting replies.
_DRAIN_READ = 65536


def read_replies(conn: Any, count: int, deadline: Optional[float]) -> List[Any]:
    """``conn``'s next ``count`` replies (error replies as objects), every read bounded by ``deadline``.

    Off the hiredis path the parser reads through a :class:`_DeadlineSocket` meanwhile.
    """
    fast = _hiredis_reading(conn)
    if fast is not None:
        return fast[0](count, deadline)
    one = reply_reader(conn)
    parser = getattr(conn, "_parser", None)
    holder: Any = parser if type(parser) is _HiredisParser else getattr(parser, "_buffer", None)
    real = getattr(holder, "_sock", None)
    if deadline is None or real is None:
        return [one() for _ in range(count)]
    proxy = _DeadlineSocket(real, deadline, conn.socket_timeout)
    holder._sock = proxy
    try:
        return [one() for _ in range(count)]
    finally:
        if getattr(holder, "_sock", None) is proxy:
            holder._sock = real
        if proxy.armed:
            try:
                real.settimeout(conn.socket_timeout)
            except OSError:
                pass  # the connection was closed meanwhile


def read_errors(conn: Any, count: int, deadline: Optional[float]) -> List[Any]:
    """The error replies among ``conn``'s next ``count`` replies, in order, read as :func:`read_replies` reads.

    On the hiredis path, replies that are single-line integers or statuses
    are counted in the bytes received, not parsed one by one: a bulk load's
    replies cost a fifth of what parsing them did.
    """
    fast = _hiredis_reading(conn)
    if fast is not None:
        return fast[1](count, deadline)
    return [reply for reply in read_replies(conn, count, deadline) if isinstance(reply, Exception)]


def async_reply_reader(conn: Any) -> Callable[[], Awaitable[Any]]:
    """The asyncio twin of :func:`reply_reader` (the caller bounds the time of the whole read)."""
    parser: Any = getattr(conn, "_parser", None)
    if parser is not None and (type(parser) is _AsyncHiredisParser or type(parser) in _ASYNC_OWN_PARSERS):
        return parser.read_response

    async def read() -> Any:
        try:
            return await conn.read_response()
        except redis.exceptions.ResponseError as exc:
            return exc

    return read


async def async_send(conn: Any, packed: List[bytes]) -> None:
    """Write a packed pipeline on a connected ``redis.asyncio`` connection.

    redis-py's ``send_packed_command`` runs each write under
    ``asyncio.wait_for`` when the connection has a socket timeout, which
    (before Python 3.12) makes a task and an event-loop turn per write: a
    tenth of a one-command call.  The store bounds its whole call by its own
    deadline instead (see ``AsyncStore.run``).  A failed write closes the
    connection, as redis-py does.
    """
    writer = getattr(conn, "_writer", None)
    if writer is None:  # checked out connections are connected: only a close meanwhile leaves none
        raise redis.exceptions.ConnectionError("the connection to %s was closed" % (conn,))
    try:
        writer.writelines(packed)
        await writer.drain()
    except BaseException:
        await conn.disconnect(nowait=True)
        raise


#: How long a call looks for its first reply on a connection before it sleeps until the reply comes (seconds):
#: from a server on the same machine a small call's reply comes in about 50 us.
REPLY_POLL = 0.0001
#: Calls on a connection that sleep at once after one whose reply was not in within :data:`REPLY_POLL`:
#: a far server's replies never are, and looking for them would only cost CPU.
POLL_SKIP = 16
#: Where a connection keeps how many calls are still to skip looking.
_POLL_SKIPS = "_analytics_poll_skips"


def _poll_due(conn: Any) -> bool:
    skips = getattr(conn, _POLL_SKIPS, 0)
    if skips:
        setattr(conn, _POLL_SKIPS, skips - 1)
    return not skips


def _poll_missed(conn: Any) -> None:
    try:
        setattr(conn, _POLL_SKIPS, POLL_SKIP)
    except AttributeError:
        pass  # a connection class without room for it: it keeps looking


def reply_wait(conn: Any, poll: float = REPLY_POLL) -> None:
    """Look, for up to ``poll`` seconds, whether the first bytes of ``conn``'s reply are in, before reading it.

    A thread that blocks on a socket sleeps, and the reply then has to wake
    its CPU: on a virtual machine that costs tens of microseconds, as long as
    a server on the same machine takes to answer a small call, and measured
    here it made a one-command call 1.5x slower by the clock at no less CPU.
    Looking without blocking finds the reply without that sleep.  When a
    reply is not in by then (a far server), the connection's next
    :data:`POLL_SKIP` calls block at once.  Looks at the connection's socket
    (``_sock``); without one, returns at once.
    """
    sock = getattr(conn, "_sock", None)
    if sock is None or not _poll_due(conn):
        return
    end = time.monotonic() + poll
    ready = (sock,)
    try:
        while not select.select(ready, (), (), 0)[0]:
            if time.monotonic() >= end:
                _poll_missed(conn)
                return
    except (OSError, ValueError):
        pass  # a closed socket: the read says so


async def async_reply_wait(conn: Any, poll: float = REPLY_POLL) -> None:
    """:func:`reply_wait` for ``redis.asyncio``: the event loop keeps turning (other tasks run as usual)
    until the first bytes of the reply are in its stream reader's buffer (``_reader._buffer``)."""
    reader: Any = getattr(conn, "_reader", None)
    if not hasattr(reader, "_buffer") or not _poll_due(conn):
        return
    end = time.monotonic() + poll
    while not reader._buffer:
        if time.monotonic() >= end:
            _poll_missed(conn)
            return
        await asyncio.sleep(0)


def peer_closed(conn: Any) -> bool:
    """Whether an idle ``redis.asyncio`` connection's server has closed it (EOF seen on its stream).

    redis.asyncio hands out such a connection as usable; writing to it then
    fails only when the reply is awaited, when it is no longer known whether
    the batch was applied.  Seen at check-out, it is reconnected first instead.
    """
    reader = getattr(conn, "_reader", None)
    return reader is not None and getattr(reader, "at_eof", lambda: False)()


def refresh_cluster(client: Any, failed: Optional[str]) -> Any:
    """Reload a cluster client's slot map (a coroutine on the asyncio side), asking ``failed`` last.

    Recent redis-py versions can ask a node that just failed last; older ones
    may first wait a connect timeout on it.
    """
    manager = client.nodes_manager
    if failed is not None and "last_failed_node_name" in inspect.signature(manager.initialize).parameters:
        return manager.initialize(last_failed_node_name=failed)
    return manager.initialize()


def slot_owners(client: Any, key: Any) -> Any:
    """The cluster nodes serving ``key``'s slot in the client's slot map (primary first), or ``None``."""
    return client.nodes_manager.slots_cache.get(client.keyslot(key))


async def refresh_async_cluster(client: Any, failed: Optional[str]) -> None:
    """:func:`refresh_cluster` for ``redis.asyncio``; the first time, the client's own start-up."""
    if getattr(client, "_initialize", False):
        await client.initialize()
    else:
        await refresh_cluster(client, failed)
