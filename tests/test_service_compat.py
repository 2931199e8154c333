"""The 0.6.5 compatibility replay through the HTTP backend, against real ``analytics serve`` processes.

Every layout scenario and every query of ``tests/compat`` is replayed as in
``test_compat_layout.py`` and ``test_compat_queries.py`` (same named skips),
but each call goes through :class:`analytics.backends.http.HTTP` (and its
asyncio twin, :class:`analytics.aio.backends.http.HTTP`) to a service
in front of real Redis: what comes back, and what is left in Redis host by
host, must be what 0.6.5 returned and left.  Raw writes and dumps go to the
Redis databases directly.
"""
import dataclasses

import pytest

import compat_replay as cr
from flavours import FLAVOURS, Blocking
from servers import RedisServer
from service_servers import serve_settings

from analytics.aio.backends.http import HTTP as AsyncHTTP
from analytics.backends.http import HTTP
from analytics.backends.redis import Redis


def host_settings(server, config):
    return {"hosts": [{"host": "127.0.0.1", "port": server.port, "db": db,
                       "identifier": "redis://localhost:6379/%d" % db} for db in cr.host_dbs(config)]}


class Replays:
    """Services per (config, prefix), started on first use; harnesses over them."""

    def __init__(self, server):
        self.server = server
        self.services = {}
        self.opened = []
        self.seeded = None

    def service(self, config, prefix):
        key = (config, prefix)
        if key not in self.services:
            self.services[key] = serve_settings(host_settings(self.server, config), prefix=prefix)
        return self.services[key]

    def harness(self, flavour, config, instance_kwargs):
        """A harness on emptied databases of ``config``: calls over HTTP, raw writes and dumps direct."""
        assert set(instance_kwargs) <= {"prefix"}, instance_kwargs
        prefix = instance_kwargs.get("prefix")
        self.server.client().flushall()
        self.seeded = None
        options = {} if prefix is None else {"prefix": prefix}
        direct = Redis(host_settings(self.server, config), **options)
        url = {"url": self.service(config, prefix).url}
        http = HTTP(url, **options) if flavour == "sync" else Blocking(AsyncHTTP(url, **options))
        self.opened += [direct, http]
        clients = [self.server.client(db) for db in cr.host_dbs(config)]
        return dataclasses.replace(cr.host_list_harness(direct, clients), backend=http)

    def seeded_harness(self, flavour, config, dataset):
        """A harness whose databases hold ``dataset``, seeded over HTTP once for the queries that follow."""
        if self.seeded is None or self.seeded[0] != (flavour, config, dataset["name"]):
            harness = self.harness(flavour, config, dataset.get("instance_kwargs", {}))
            cr.seed_dataset(dataset, harness.backend)
            self.seeded = ((flavour, config, dataset["name"]), harness)
        return self.seeded[1]

    def close(self):
        for backend in self.opened:
            backend.close()
        for service in self.services.values():
            service.stop()


@pytest.fixture(scope="module")
def replays():
    server = RedisServer().start()
    found = Replays(server)
    yield found
    found.close()
    server.cleanup()


def _layout_cases():
    for flavour in FLAVOURS:
        for case in cr.layout_params():
            yield pytest.param(flavour, *case.values, id="%s-%s" % (flavour, case.id), marks=case.marks)


@pytest.mark.parametrize("flavour, config, scenario", list(_layout_cases()))
def test_scenario_over_http(replays, flavour, config, scenario):
    harness = replays.harness(flavour, config, scenario.get("instance_kwargs", {}))
    not_compared = cr.replay_scenario(scenario, config, harness)
    assert not_compared == [i for i in range(len(scenario["ops"])) if "%s#%d" % (scenario["name"], i) in cr.SKIPS]


def _query_cases():
    for flavour in FLAVOURS:
        for config in cr.REPLAY_CONFIGS:
            for case in cr.query_params():
                yield pytest.param(flavour, config, *case.values, id="%s-%s-%s" % (flavour, config, case.id),
                                   marks=case.marks)


@pytest.mark.parametrize("flavour, config, dataset, query", list(_query_cases()))
def test_query_over_http(replays, flavour, config, dataset, query):
    cr.check_query(dataset, query, config, replays.seeded_harness(flavour, config, dataset))
