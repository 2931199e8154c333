"""The asyncio backend's per-call deadline: it names the host that made it pass, and bounds Redis, not the input."""
import asyncio
import os
import signal
import time

import pytest

from servers import RedisServer

from analytics.aio import create_analytic_backend
from analytics.errors import HostTimeoutError


def backend_on(urls, timeout):
    return create_analytic_backend({"backend": "analytics.backends.redis.Redis", "settings": {
        "hosts": urls, "defaults": {"timeout": timeout}}})


def test_a_slow_async_stream_is_not_cut_off_by_the_call_timeout(flushed):
    async def load():
        backend = backend_on([flushed.url + "/1"], 0.3)

        async def trickle():
            for _ in range(6):
                await asyncio.sleep(0.15)
                yield ("u", "m", None)

        try:
            tracked = await backend.track_metrics(trickle(), chunk_size=2)
            return tracked, await backend.get_count("u", "m")
        finally:
            await backend.aclose()

    assert asyncio.run(load()) == (6, 6)


def test_a_hung_host_raises_host_timeout_naming_it(flushed):
    hung = RedisServer().start()

    async def read():
        backend = backend_on([flushed.url + "/1", hung.url + "/1"], 0.5)
        try:
            await backend.ping()
            os.kill(hung.process.pid, signal.SIGSTOP)
            started = time.monotonic()
            with pytest.raises(HostTimeoutError) as caught:
                await backend.get_counts([("user:%d" % i, "m") for i in range(20)])
            return caught.value.host, time.monotonic() - started
        finally:
            os.kill(hung.process.pid, signal.SIGCONT)
            await backend.aclose()

    try:
        host, waited = asyncio.run(read())
    finally:
        hung.cleanup()
    assert host == "redis://127.0.0.1:%d/1" % hung.port
    assert waited < 1.5
