"""Reading a posted batch for its error replies only (``redispy.read_errors``), as bulk loads do.

On redis-py's hiredis parser the store counts one-line replies in the bytes it
receives instead of parsing each one; a reply of any other shape, or a
reply already buffered, goes to hiredis.  Without hiredis, every reply is
parsed.  Each case runs on both paths against a real server, and checks
what the server holds afterwards and that the connection's next reply is its
own (nothing left unread, nothing read too far).
"""
import os
import signal
import time

import pytest
import redis
import redis.exceptions
from redis._parsers import _RESP2Parser

from analytics.stores import redispy
from servers import RedisServer


def open_connection(port, parser, **kwargs):
    if parser == "hiredis" and not redis.utils.HIREDIS_AVAILABLE:
        pytest.skip("hiredis is not installed")
    if parser == "python":
        kwargs["parser_class"] = _RESP2Parser
    pool = redis.ConnectionPool(host="127.0.0.1", port=port, db=2, **kwargs)
    return pool, pool.get_connection()


@pytest.fixture(params=["hiredis", "python"])
def conn(request, flushed):
    pool, connection = open_connection(flushed.port, request.param)
    yield connection
    pool.release(connection)
    pool.disconnect()


def send(conn, commands):
    conn.send_packed_command(redispy.pack(conn, commands), check_health=False)


def assert_in_step(conn):
    """The connection's next reply is the next command's: the batch's replies were read, and only they."""
    send(conn, [("ECHO", "next")])
    assert redispy.read_replies(conn, 1, None) == [b"next"]


def test_a_long_batch_of_one_line_replies_has_no_errors(conn, flushed):
    commands = []
    for i in range(60000):
        if i % 3 == 0:
            commands.append(("INCRBY", "n:%d" % (i % 7), i))
        elif i % 3 == 1:
            commands.append(("HINCRBY", "h", "f:%d" % (i % 5), -i))
        else:
            commands.append(("SET", "s:%d" % (i % 11), "v%d" % i))
    send(conn, commands)
    assert redispy.read_errors(conn, len(commands), None) == []
    assert_in_step(conn)
    raw = flushed.client(2)
    assert raw.get("n:0") == str(sum(i for i in range(60000) if i % 3 == 0 and i % 7 == 0))
    assert raw.hget("h", "f:1") == str(-sum(i for i in range(60000) if i % 3 == 1 and i % 5 == 1))
    assert raw.get("s:2") == "v%d" % max(i for i in range(60000) if i % 3 == 2 and i % 11 == 2)


def test_error_replies_come_back_in_order_and_the_rest_ran(conn, flushed):
    raw = flushed.client(2)
    raw.set("text", "abc")
    commands = [("INCRBY", "n", 1)] * 30000
    commands[20000] = ("HINCRBY", "text", "f", 1)
    commands[25000] = ("INCRBY", "text", 1)
    send(conn, commands)
    errors = redispy.read_errors(conn, len(commands), None)
    assert [type(error) for error in errors] == [redis.exceptions.ResponseError] * 2
    assert "WRONGTYPE" in str(errors[0])
    assert "not an integer" in str(errors[1])
    assert_in_step(conn)
    assert raw.get("n") == "29998"
    assert raw.get("text") == "abc"


def test_replies_of_other_shapes_are_counted_as_one_reply_each(conn, flushed):
    raw = flushed.client(2)
    raw.hset("h", mapping={"a": "1", "b": "line one\r\nline two"})
    commands = [("INCR", "n")] * 5000 + [("HGETALL", "h"), ("GET", "missing"), ("HGET", "h", "b")] + \
        [("INCR", "n")] * 5000
    send(conn, commands)
    assert redispy.read_errors(conn, len(commands), None) == []
    assert_in_step(conn)
    assert raw.get("n") == "10000"


def test_replies_already_buffered_are_counted(conn):
    send(conn, [("INCR", "n"), ("INCR", "n"), ("PING",)])
    deadline = time.monotonic() + 2
    while not conn.can_read(timeout=0.05) and time.monotonic() < deadline:
        pass  # can_read() reads what has arrived into redis-py's buffer
    assert redispy.read_errors(conn, 3, None) == []
    assert_in_step(conn)


def test_a_push_between_replies_goes_to_redis_py(flushed):
    if not redis.utils.HIREDIS_AVAILABLE:
        pytest.skip("hiredis is not installed")
    pool, conn = open_connection(flushed.port, "hiredis", protocol=3)
    try:
        if getattr(conn._parser, "_hiredis_PushNotificationType", None) is None:
            pytest.skip("this redis-py reads RESP3 pushes on another path (before 8.x)")
        seen = []
        conn._parser.set_invalidation_push_handler(seen.append)
        send(conn, [("CLIENT", "TRACKING", "ON"), ("GET", "watched")])
        assert redispy.read_replies(conn, 2, None) == [b"OK", None]
        flushed.client(2).set("watched", "changed")  # the server pushes an invalidation to conn
        send(conn, [("INCR", "n")] * 1000)
        assert redispy.read_errors(conn, 1000, None) == []
        assert_in_step(conn)
        assert len(seen) == 1
    finally:
        pool.release(conn)
        pool.disconnect()


@pytest.mark.parametrize("parser", ["hiredis", "python"])
def test_a_hung_server_is_given_up_on_at_the_deadline(parser, request):
    server = RedisServer().start()
    request.addfinalizer(server.cleanup)  # whatever happens below (open_connection may skip), no server is left
    pool, conn = open_connection(server.port, parser, socket_timeout=30)
    try:
        os.kill(server.process.pid, signal.SIGSTOP)
        send(conn, [("INCR", "n")] * 10)
        started = time.monotonic()
        with pytest.raises((redis.exceptions.TimeoutError, TimeoutError)):
            redispy.read_errors(conn, 10, started + 0.3)
        # Bounded by the deadline given, not by the socket's 30-second timeout.
        assert time.monotonic() - started < 5
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
        conn.disconnect()
        pool.release(conn)
        pool.disconnect()
