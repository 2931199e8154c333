"""The pure-Python wire path: redis-py's own packer and reply parser, as without hiredis.

With hiredis installed the store packs and reads through it (see
test_round_trips.py); a machine without hiredis takes the other path, which
must give the same replies, error replies and atomicity.
"""
import datetime

import pytest
import redis
import redis.exceptions
from redis._parsers import _RESP2Parser, _RESP3Parser

from analytics.backends.redis import Redis
from analytics.stores import redispy

DAY = datetime.date(2012, 12, 31)


@pytest.fixture(params=[(2, _RESP2Parser), (3, _RESP3Parser)], ids=["resp2", "resp3"])
def pure_python(request, flushed, monkeypatch):
    protocol, parser = request.param
    monkeypatch.setattr(redispy, "_hiredis_pack", None)
    pool = redis.ConnectionPool(host="127.0.0.1", port=flushed.port, db=2, protocol=protocol, parser_class=parser)
    client = redis.Redis(connection_pool=pool)
    backend = Redis({"client": client})
    yield backend, flushed.client(2), parser
    client.close()


def test_replies_and_reads_without_hiredis(pure_python):
    backend, raw, parser = pure_python
    node = backend.store.primaries()[0]
    conn = node.client.connection_pool.get_connection()
    try:
        assert type(conn._parser) is parser
    finally:
        node.client.connection_pool.release(conn)

    assert backend.track_metric(["u1", "u2"], "m", DAY, inc_amt=2) == [[2, 2, 2, 2], [2, 2, 2, 2]]
    # Its week is 2012-12-31's, counted in the 2013 hash (K2): a new field there.
    assert backend.track_metric("u1", "m", datetime.date(2013, 1, 2)) == [[1, 1, 1, 3]]
    assert backend.get_metric_by_week("u1", "m", DAY, limit=1) == ({"2012-12-31"}, {"2012-12-31": 3})
    assert backend.get_counts([("u1", "m"), ("u2", "m"), ("nobody", "m")]) == [3, 2, 0]
    assert backend.set_metric_by_day("u1", "m", DAY, 5) == [[0]]
    assert backend.get_count("u1", "m") == 6
    assert raw.hget("_analytics:user:u1:analy:12-12", "m:12-12-31") == "5"


def test_error_reply_without_hiredis_is_raised_after_the_batch_ran(pure_python):
    backend, raw, _ = pure_python
    raw.set("_analytics:user:u1:analy:12-12", "not a hash")
    with pytest.raises(redis.exceptions.ResponseError, match="WRONGTYPE"):
        backend.track_metric("u1", "m", DAY)
    # Redis runs the rest of a transaction after a command's error reply (no
    # rollback), so the other three increments of the call landed, once.
    assert raw.hgetall("_analytics:user:u1:analy:12") == {"m:12-12-31": "1", "m:12-12": "1"}
    assert raw.get("_analytics:analy:u1:count:m") == "1"
    assert raw.get("_analytics:user:u1:analy:12-12") == "not a hash"


def test_a_push_between_replies_goes_to_redis_py_and_the_replies_stay_in_order(flushed):
    # RESP3 on redis-py's hiredis parser: the store reads hiredis' replies itself
    # (redispy._hiredis_reading), and a push (here a client-tracking invalidation) can
    # arrive between two of them.
    pool = redis.ConnectionPool(host="127.0.0.1", port=flushed.port, db=2, protocol=3)
    conn = pool.get_connection()
    try:
        if getattr(conn._parser, "_hiredis_PushNotificationType", None) is None:
            pytest.skip("this redis-py reads RESP3 pushes on another path (no hiredis, or before 8.x)")
        seen = []
        conn._parser.set_invalidation_push_handler(seen.append)
        conn.send_command("CLIENT", "TRACKING", "ON")
        assert conn.read_response() == b"OK"
        conn.send_command("GET", "watched")
        assert conn.read_response() is None
        flushed.client(2).set("watched", "changed")  # the server pushes an invalidation to conn
        conn.send_packed_command(redispy.pack(conn, [("INCR", "n"), ("PING",), ("INCRBY", "n", 4)]))
        assert redispy.read_replies(conn, 3, None) == [1, b"PONG", 5]
        assert len(seen) == 1 and seen[0][0] in (b"invalidate", "invalidate")
        assert [bytes(key) for key in seen[0][1]] == [b"watched"]
    finally:
        pool.release(conn)
        pool.disconnect()
