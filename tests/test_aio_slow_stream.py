"""An asyncio bulk load fed slower than the timeout still runs: the deadline bounds Redis, not the input."""
import asyncio

from analytics.aio import create_analytic_backend


def test_a_slow_async_stream_is_not_cut_off_by_the_call_timeout(flushed):
    async def load():
        backend = create_analytic_backend({"backend": "analytics.backends.redis.Redis", "settings": {
            "hosts": [flushed.url + "/1"], "defaults": {"timeout": 0.3}}})

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
