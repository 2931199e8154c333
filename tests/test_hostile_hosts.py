"""Hosts that answer with something that is not Redis, trickle, or lack the configured db.

Each must end a call with the library's error naming the host, within the
call's timeout, on the sync and on the asyncio backend.
"""
import time

import pytest

from analytics.errors import ConfigurationError, HostTimeoutError, HostUnavailableError
from fake_hosts import NotRedis, Trickler
from flavours import make_backend
from servers import RedisServer

MARGIN = 0.75


def test_a_host_that_is_not_redis_is_unavailable_by_name(flavour):
    host = NotRedis()
    backend = make_backend(flavour, {"hosts": [{"host": "127.0.0.1", "port": host.port, "timeout": 1}]})
    try:
        with pytest.raises(HostUnavailableError) as caught:
            backend.track_count("u", "m")
        assert caught.value.host == "redis://127.0.0.1:%d/0" % host.port
        assert "InvalidResponse" in str(caught.value) or "Protocol" in str(caught.value)
    finally:
        backend.close()
        host.close()


def test_a_trickling_host_cannot_hold_a_call_past_its_timeout(flavour):
    host = Trickler(interval=0.2)
    backend = make_backend(flavour, {"hosts": [{"host": "127.0.0.1", "port": host.port, "timeout": 1}]})
    try:
        started = time.monotonic()
        with pytest.raises(HostTimeoutError) as caught:
            backend.get_count("u", "m")
        elapsed = time.monotonic() - started
        # Each byte came within the socket timeout; the call's deadline stopped it.
        assert 0.9 < elapsed < 1 + MARGIN
        assert caught.value.host == "redis://127.0.0.1:%d/0" % host.port
        assert caught.value.applied is None
    finally:
        backend.close()
        host.close()


def test_a_db_the_server_does_not_have_is_named_at_the_first_call(flavour):
    server = RedisServer(databases=2).start()
    backend = make_backend(flavour, {"hosts": [{"host": "127.0.0.1", "port": server.port, "db": 5}]})
    try:
        with pytest.raises(ConfigurationError) as caught:
            backend.track_metric("u", "m")
        message = str(caught.value)
        assert "redis://127.0.0.1:%d/5" % server.port in message
        assert "DB index is out of range" in message
        assert server.client(0).dbsize() == 0 and server.client(1).dbsize() == 0
    finally:
        backend.close()
        server.cleanup()
