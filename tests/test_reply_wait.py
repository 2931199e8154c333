"""Looking for a reply before blocking on it (``redispy.reply_wait`` and its asyncio twin).

Against a real server: a ``BLPOP`` on an empty list answers only when its own
timeout runs out, so a test decides when the reply comes.  The wait must end
once the reply is in (and leave it to be read), and after a reply that was not
in within the poll, the connection's next calls must not look at all.
"""
import asyncio
import contextlib
import select

import pytest
import redis
import redis.asyncio

from analytics.stores import redispy

SKIPS = "_analytics_poll_skips"


def readable(sock):
    return bool(select.select([sock], [], [], 0)[0])


@pytest.fixture
def conn(flushed):
    pool = redis.ConnectionPool(host="127.0.0.1", port=flushed.port, db=2)
    connection = pool.get_connection()
    yield connection
    pool.release(connection)
    pool.disconnect()


def send(conn, *command):
    conn.send_packed_command(redispy.pack(conn, [command]), check_health=False)


def test_the_wait_ends_once_the_reply_is_in_and_leaves_it_to_read(conn):
    send(conn, "BLPOP", "empty", "0.05")
    redispy.reply_wait(conn, poll=30.0)
    assert readable(conn._sock)
    assert redispy.read_replies(conn, 1, None) == [None]
    assert getattr(conn, SKIPS, 0) == 0


def test_a_reply_not_in_within_the_poll_makes_the_next_calls_block_at_once(conn):
    send(conn, "BLPOP", "empty", "0.3")
    redispy.reply_wait(conn, poll=0.001)
    assert getattr(conn, SKIPS) == redispy.POLL_SKIP
    assert redispy.read_replies(conn, 1, None) == [None]
    for left in range(redispy.POLL_SKIP - 1, -1, -1):
        send(conn, "PING")
        redispy.reply_wait(conn, poll=30.0)
        assert getattr(conn, SKIPS) == left
        assert redispy.read_replies(conn, 1, None) == [b"PONG"]
    # Skipped out: the next call looks again, and finds its reply.
    send(conn, "BLPOP", "empty", "0.05")
    redispy.reply_wait(conn, poll=30.0)
    assert readable(conn._sock)
    assert getattr(conn, SKIPS) == 0
    assert redispy.read_replies(conn, 1, None) == [None]


def test_a_socket_closed_under_the_connection_is_left_to_the_read(conn):
    send(conn, "PING")
    conn._sock.close()
    redispy.reply_wait(conn, poll=30.0)
    assert getattr(conn, SKIPS, 0) == 0
    conn.disconnect()


def run(coroutine):
    return asyncio.run(coroutine)


@contextlib.asynccontextmanager
async def async_connection(port):
    client = redis.asyncio.Redis(host="127.0.0.1", port=port, db=2)
    conn = await client.connection_pool.get_connection()
    await conn.connect()
    try:
        yield conn
    finally:
        await conn.disconnect()
        await client.aclose()


async def async_send(conn, *command):
    await redispy.async_send(conn, redispy.pack(conn, [command]))


async def async_read(conn):
    return await redispy.async_reply_reader(conn)()


def test_the_async_wait_ends_once_the_reply_is_in_and_leaves_it_to_read(flushed):
    async def scenario():
        async with async_connection(flushed.port) as conn:
            await async_send(conn, "BLPOP", "empty", "0.05")
            await redispy.async_reply_wait(conn, poll=30.0)
            assert conn._reader._buffer
            assert getattr(conn, SKIPS, 0) == 0
            assert await async_read(conn) is None

    run(scenario())


def test_other_tasks_run_while_the_async_wait_looks(flushed):
    async def scenario():
        turns = 0

        async def other():
            nonlocal turns
            while True:
                turns += 1
                await asyncio.sleep(0)

        async with async_connection(flushed.port) as conn:
            neighbour = asyncio.create_task(other())
            await async_send(conn, "BLPOP", "empty", "0.05")
            await redispy.async_reply_wait(conn, poll=30.0)
            neighbour.cancel()
            assert turns > 1
            assert await async_read(conn) is None

    run(scenario())


def test_an_async_reply_not_in_within_the_poll_makes_the_next_calls_wait_at_once(flushed):
    async def scenario():
        async with async_connection(flushed.port) as conn:
            await async_send(conn, "BLPOP", "empty", "0.3")
            await redispy.async_reply_wait(conn, poll=0.001)
            assert getattr(conn, SKIPS) == redispy.POLL_SKIP
            assert await async_read(conn) is None
            await async_send(conn, "PING")
            await redispy.async_reply_wait(conn, poll=30.0)
            assert getattr(conn, SKIPS) == redispy.POLL_SKIP - 1
            assert await async_read(conn) in (b"PONG", "PONG")

    run(scenario())
