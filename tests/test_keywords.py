"""Misspelt keywords raise ``TypeError`` naming them, in every public call of every backend.

0.6.5 swallowed them (``**kwargs`` everywhere): ``track_metric(..., inc=5)``
added 1, and ``Redis(settings, prefx="app")`` then ``clear_all()`` deleted
another application's data.  Nothing is sent when a keyword is refused.
"""
import asyncio
import datetime
import inspect

import pytest

from analytics import plans
from analytics.aio.backends.dummy import Dummy as AsyncDummy
from analytics.aio.backends.redis import Redis as AsyncRedis
from analytics.backends.dummy import Dummy
from analytics.backends.redis import Redis
from conftest import host_settings

D = datetime.date(2012, 3, 4)
#: Valid arguments for every public call.
CALLS = {
    "track_metric": ("u", "m", D),
    "track_metrics": ([("u", "m", D)],),
    "track_count": ("u", "m"),
    "set_counts": ([("u", "m", 3)],),
    "set_metric_by_day": ("u", "m", D, 3),
    "sync_agg_metric": ("u", "m", D, D),
    "sync_week_metric": ("u", "m", D, D),
    "sync_month_metric": ("u", "m", D, D),
    "clear_all": (),
    "get_metric_by_day": ("u", "m", D),
    "get_metric_by_week": ("u", "m", D),
    "get_metric_by_month": ("u", "m", D),
    "get_metrics": ([("u", "m")], D),
    "get_count": ("u", "m"),
    "get_counts": ([("u", "m")],),
    "scan_uids": (),
    "get_uid_metrics": ("u",),
    "scan_day_counts": (),
    "scan_counters": (),
    "get_metric_by_year": ("u", "m", D),
    "get_metric_by_hour": ("u", "m", D),
    "track_unique": ("u", "m", "member", D),
    "track_uniques": ([("u", "m", "member", D)],),
    "get_unique_by_hour": ("u", "m", D),
    "get_unique_by_day": ("u", "m", D),
    "get_unique_by_week": ("u", "m", D),
    "get_unique_by_month": ("u", "m", D),
    "get_unique_count": ("u", "m", D, D),
    "ping": (),
}


def test_every_public_call_is_listed():
    assert set(CALLS) == set(plans.CALLS)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_misspelt_keyword_is_refused_by_every_backend_and_nothing_is_sent(flushed, name):
    sync = Redis(host_settings(flushed, [3]))
    with pytest.raises(TypeError, match="unexpected keyword argument 'limt'"):
        getattr(sync, name)(*CALLS[name], limt=3)
    with pytest.raises(TypeError, match="unexpected keyword argument 'limt'"):
        getattr(Dummy({}), name)(*CALLS[name], limt=3)

    async def asynchronous():
        async with AsyncRedis(host_settings(flushed, [3])) as backend:
            with pytest.raises(TypeError, match="unexpected keyword argument 'limt'"):
                await getattr(backend, name)(*CALLS[name], limt=3)
        with pytest.raises(TypeError, match="unexpected keyword argument 'limt'"):
            await getattr(AsyncDummy({}), name)(*CALLS[name], limt=3)

    asyncio.run(asynchronous())
    assert sync.store.round_trips == 0
    assert flushed.client(3).dbsize() == 0
    sync.close()


@pytest.mark.parametrize("cls", [Redis, AsyncRedis, Dummy, AsyncDummy])
def test_a_misspelt_constructor_keyword_is_refused(flushed, cls):
    with pytest.raises(TypeError, match="unexpected keyword argument 'prefx'"):
        cls(host_settings(flushed, [3]), prefx="app")


def test_the_examples_of_the_issue(flushed):
    backend = Redis(host_settings(flushed, [3]))
    with pytest.raises(TypeError, match="'inc'"):
        backend.track_metric("u", "m", inc=5)
    with pytest.raises(TypeError, match="'start'"):
        backend.get_counts([("u", "m")], start=D)
    assert backend.get_counts([("u", "m")], start_date=D, end_date=D) == [0]
    backend.close()


@pytest.mark.parametrize("name", sorted(CALLS))
def test_dummies_accept_every_call_with_the_redis_signature(name):
    assert inspect.signature(getattr(Dummy, name)).parameters.keys() == \
        inspect.signature(getattr(Redis, name)).parameters.keys()
    assert getattr(Dummy({}), name)(*CALLS[name]) is None
    assert asyncio.run(getattr(AsyncDummy({}), name)(*CALLS[name])) is None
    assert inspect.iscoroutinefunction(getattr(AsyncRedis, name))
    assert inspect.signature(getattr(AsyncRedis, name)) == inspect.signature(getattr(Redis, name))
