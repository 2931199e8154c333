"""A Redis host that dies or hangs behind ``analytics serve``: 503 naming it within the timeout, then service again.

Real processes throughout: two redis-servers, one service with ``--timeout 1``.
The host is killed (connection refused) or paused with SIGSTOP (no answer), and
brought back on the same port; the service is never restarted.
"""
import os
import signal
import time

import httpx
import pytest

from servers import RedisServer
from service_servers import Service

from analytics.backends.http import HTTP
from analytics.errors import HostTimeoutError, HostUnavailableError

TIMEOUT = 1.0
UIDS = ["user:%d" % i for i in range(20)]


@pytest.fixture
def two_hosts():
    first, second = RedisServer().start(), RedisServer().start()
    service = Service(["--url", first.url + "/1", "--url", second.url + "/1", "--timeout", str(TIMEOUT)]).start()
    try:
        yield first, second, service
    finally:
        service.stop()
        for server in (first, second):
            if server.process is not None:
                os.kill(server.process.pid, signal.SIGCONT)
            server.cleanup()


def counts(service):
    return httpx.get(service.url + "/v1/counts", params={"uid": UIDS, "metric": "m"}, timeout=30)


def test_a_killed_host_is_named_within_the_timeout_and_served_again_when_back(two_hosts):
    first, second, service = two_hosts
    httpx.post(service.url + "/v1/events", json={"uid": UIDS, "metric": "m", "date": "2026-11-23"})
    name = "redis://127.0.0.1:%d/1" % second.port
    second.stop()
    started = time.monotonic()
    down = counts(service)
    assert time.monotonic() - started < TIMEOUT + 1
    assert down.status_code == 503
    error = down.json()["error"]
    # Unknown (None) when the batch went out on a connection opened before the kill, False when none was left.
    assert (error["host"], error["type"]) == (name, "HostUnavailableError")
    assert error.get("applied", None) in (None, False)
    assert name in error["message"]
    health = httpx.get(service.url + "/healthz")
    assert health.status_code == 503 and health.json()["error"]["host"] == name
    with HTTP({"url": service.url}) as backend:
        with pytest.raises(HostUnavailableError) as caught:
            backend.get_counts([(uid, "m") for uid in UIDS])
        # By now its dead connection is gone: this call could not connect, so nothing was sent.
        assert caught.value.host == name and caught.value.applied is False
        second.start()
        assert httpx.get(service.url + "/healthz").status_code == 200
        # Counts written to the killed host were lost with it (no persistence); the other host's remain.
        assert sorted(set(backend.get_counts([(uid, "m") for uid in UIDS]))) == [0, 1]


def test_a_hung_host_times_out_with_503_and_recovers(two_hosts):
    first, second, service = two_hosts
    name = "redis://127.0.0.1:%d/1" % first.port
    os.kill(first.process.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        hung = counts(service)
        assert time.monotonic() - started < TIMEOUT + 1.5
        assert hung.status_code == 503
        assert (hung.json()["error"]["host"], hung.json()["error"]["type"]) == (name, "HostTimeoutError")
        with HTTP({"url": service.url}) as backend:
            with pytest.raises(HostTimeoutError) as caught:
                backend.ping()
            assert caught.value.host == name
    finally:
        os.kill(first.process.pid, signal.SIGCONT)
    assert counts(service).json()["counts"][0] == {"uid": "user:0", "metric": "m", "count": 0}
    assert httpx.get(service.url + "/healthz").status_code == 200


def test_a_service_that_is_gone_is_an_unavailable_host_named_by_its_url(two_hosts):
    _, _, service = two_hosts
    url = service.url
    service.stop()
    with HTTP({"url": url, "timeout": 2}) as backend:
        with pytest.raises(HostUnavailableError) as caught:
            backend.get_count("u", "m")
    assert (caught.value.host, caught.value.applied) == (url, False)
