"""Tests that run inside the Django test project (started by tests/test_django.py with pytest-django).

Kept out of the main test session so that configuring Django here cannot leak
into other test modules.
"""
import asyncio
import datetime
import json
import os
import uuid

import pytest
import redis
from django.core.management import CommandError, call_command

from analytics import create_analytic_backend, schema
from analytics.contrib.django import aanalytics, analytics
from analytics.contrib.django.testing import analytics_for_tests

DAY = datetime.date(2026, 11, 23)


def server() -> redis.Redis:
    return redis.Redis.from_url(os.environ["ANALYTICS_TEST_URL"], decode_responses=True)


def keys_of(prefix: str) -> list:
    return sorted(server().scan_iter(match=schema.prefix_pattern(prefix)))


def test_a_view_tracks_and_the_fixture_reads_it_back(client, analytics_backend):
    for _ in range(3):
        assert client.get("/like/7/", {"day": DAY.isoformat()}).status_code == 200
    assert json.loads(client.get("/likes/7/").content) == {"likes": 3}
    _, days = analytics_backend.get_metric_by_day("post:7", "likes", DAY, limit=2)
    assert days == {"2026-11-23": 3, "2026-11-24": 0}
    assert analytics.prefix.startswith("djangotests-test-")
    assert keys_of(analytics.prefix)


def test_the_helper_clears_its_prefix_and_nothing_else():
    url = os.environ["ANALYTICS_TEST_URL"]
    neighbour = create_analytic_backend({"backend": "analytics.backends.redis.Redis",
                                         "settings": {"hosts": [url]}, "prefix": "djangotests"})
    neighbour.clear_all()
    neighbour.track_metric("post:1", "likes", DAY)
    server().set("unrelated", "1")
    with analytics_for_tests() as backend:
        prefix = analytics.prefix
        analytics.track_metric("post:1", "likes", DAY, inc_amt=5)
        assert backend.get_count("post:1", "likes") == 5
        assert len(keys_of(prefix)) == 3  # month hash, year hash, all-time counter
    assert keys_of(prefix) == []
    assert neighbour.get_count("post:1", "likes") == 1
    assert server().get("unrelated") == "1"
    neighbour.clear_all()
    neighbour.close()


def test_a_forked_worker_builds_its_own_backend_and_connections(settings):
    settings.ANALYTICS_PREFIX = "djangofork-%s" % uuid.uuid4().hex[:8]
    parent = analytics.backend_for_process()
    analytics.track_metric("post:9", "likes", DAY)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            child = analytics.backend_for_process()
            for _ in range(5):
                analytics.track_metric("post:9", "likes", DAY)
            pools = [client.connection_pool for client in child.get_backend().hosts.values()]
            parent_pools = [client.connection_pool for client in parent.get_backend().hosts.values()]
            report = {"new_backend": child is not parent, "own_pools": all(p.pid == os.getpid() for p in pools),
                      "shared": any(p is q for p in pools for q in parent_pools)}
            os.write(write, json.dumps(report).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as handle:
        report = json.loads(handle.read())
    os.waitpid(pid, 0)
    assert report == {"new_backend": True, "own_pools": True, "shared": False}
    assert analytics.backend_for_process() is parent
    assert analytics.get_count("post:9", "likes") == 6
    analytics.clear_all()


def test_an_async_view_tracks_with_the_asyncio_backend(client, analytics_backend):
    for expected in (1, 2):
        answer = client.get("/alike/3/", {"day": DAY.isoformat()})
        assert json.loads(answer.content) == {"likes": expected}
    assert analytics_backend.get_metric_by_day("post:3", "likes", DAY, limit=1)[1] == {"2026-11-23": 2}


def test_each_event_loop_gets_its_own_asyncio_backend(analytics_backend):
    async def use():
        await aanalytics.track_count("post:6", "shares")
        return aanalytics.backend_for_loop()

    first, second = asyncio.run(use()), asyncio.run(use())
    assert first is not second
    assert analytics_backend.get_count("post:6", "shares") == 2


def test_call_command_runs_the_command_line(analytics_backend, capsys):
    call_command("analytics", "track", "post:5", "likes", "--date", "2026-11-23", "--inc", "3")
    assert capsys.readouterr().out == "post:5 likes 2026-11-23: day 3, week 3, month 3, all-time 3\n"
    assert analytics_backend.get_count("post:5", "likes") == 3
    with pytest.raises(CommandError, match="metric must not be empty") as raised:
        call_command("analytics", "count", "post:5", "")
    assert raised.value.returncode == 2
