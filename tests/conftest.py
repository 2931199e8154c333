"""Shared fixtures: one real redis-server for the session, fresh databases per test."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from servers import RedisServer  # noqa: E402
# Imported here so that every test module shares one cluster for the whole session.
from cluster_servers import cluster, redis_cluster  # noqa: E402,F401


@pytest.fixture(params=["sync", "async"])
def flavour(request):
    """Run the test on the sync backend and on the asyncio one (see flavours.Blocking)."""
    return request.param


@pytest.fixture(scope="session")
def redis_server():
    """A redis-server started for this test session (killed at the end)."""
    server = RedisServer().start()
    yield server
    server.cleanup()


@pytest.fixture
def flushed(redis_server):
    """The session server with every database emptied before the test."""
    redis_server.client().flushall()
    return redis_server


def host_settings(server, dbs, identifiers=True):
    """0.6.x settings for ``dbs`` of ``server``; with ``identifiers``, placed as if on localhost:6379."""
    hosts = []
    for db in dbs:
        host = {"host": "127.0.0.1", "port": server.port, "db": db}
        if identifiers:
            host["identifier"] = "redis://localhost:6379/%d" % db
        hosts.append(host)
    return {"hosts": hosts}


@pytest.fixture
def three_hosts(flushed):
    """The upstream test suite's setup: databases 3, 4 and 5, placed like localhost:6379/3-5."""
    return host_settings(flushed, [3, 4, 5])


@pytest.fixture
def one_host(flushed):
    return host_settings(flushed, [6])


@pytest.fixture
def backend(three_hosts):
    from analytics.backends.redis import Redis

    instance = Redis(three_hosts)
    yield instance
    instance.store.close()
