"""Query vectors: every read of 0.6.5 replayed on three hosts and on one host.

Each dataset is seeded on emptied databases through the backend's own write
calls, then every query must return what 0.6.5 returned (or raise where it
raised, without changing any data).  Queries changed by a POLICY correction are
skipped by name (``compat_replay.SKIPS``); a separate test shows each such skip
is needed.
"""
import pytest

import compat_replay as cr
from conftest import host_settings

from flavours import make_backend


def _cases():
    for config in cr.REPLAY_CONFIGS:
        for case in cr.query_params():
            yield pytest.param(config, *case.values, id="%s-%s" % (config, case.id), marks=case.marks)


@pytest.fixture
def seeded(flushed, flavour):
    """Builds the backend for (config, dataset) and seeds it; closes it afterwards."""
    opened = []

    def seed(config, dataset):
        dbs = cr.host_dbs(config)
        backend = make_backend(flavour, host_settings(flushed, dbs), **dataset.get("instance_kwargs", {}))
        opened.append(backend)
        cr.seed_dataset(dataset, backend)
        return cr.host_list_harness(backend, [flushed.client(db) for db in dbs])

    yield seed
    for backend in opened:
        backend.store.close()


@pytest.mark.parametrize("config, dataset, query", list(_cases()))
def test_query(seeded, config, dataset, query):
    cr.check_query(dataset, query, config, seeded(config, dataset))


@pytest.mark.parametrize("config", cr.REPLAY_CONFIGS)
def test_skipped_queries_really_differ(seeded, config):
    """Every skipped query, run anyway, no longer gives 0.6.5's outcome."""
    harnesses = {}
    for dataset, query in cr.queries():
        key = "%s/%s" % (dataset["name"], query["name"])
        if key not in cr.SKIPS:
            continue
        if dataset["name"] not in harnesses:
            harnesses[dataset["name"]] = seeded(config, dataset)
        with pytest.raises(Exception):
            cr.check_query(dataset, query, config, harnesses[dataset["name"]], honour_skips=False)
