"""The 0.6.5 compatibility vectors replayed on a real 3-primary Redis Cluster.

Placement on a cluster follows its slots, not 0.6.5's ring, so the contents
are compared as one keyspace: the union of every primary's keys (each key must
sit on exactly one node) against the union of the recorded hosts.  Return
values are compared exactly.  Entries changed by a POLICY correction are
skipped by name, with the same table as the host-list replays
(``compat_replay.SKIPS``).
"""
import pytest

import compat_replay as cr

from flavours import make_backend

pytestmark = pytest.mark.cluster


def cluster_harness(cluster, backend):
    """A replay :class:`~compat_replay.Harness` over the cluster's primaries (union compared)."""

    def dump():
        dumps = []
        for port in cluster.primary_ports():
            with cluster.node_client(port) as client:
                dumps.append(cr.dump_host(client))
        return dumps

    def raw_set(key, value):
        backend.get_backend().set(key, value)

    return cr.Harness(backend, dump, raw_set, raw_set_on_host=None, per_host=False)


@pytest.mark.parametrize("config, scenario", list(cr.layout_params()))
def test_layout_scenario_on_the_cluster(cluster, flavour, config, scenario):
    backend = make_backend(flavour, {"cluster": cluster.url(0)}, **scenario.get("instance_kwargs", {}))
    try:
        not_compared = cr.replay_scenario(scenario, config, cluster_harness(cluster, backend))
    finally:
        backend.store.close()
    assert not_compared == [i for i in range(len(scenario["ops"])) if "%s#%d" % (scenario["name"], i) in cr.SKIPS]


@pytest.fixture(scope="module")
def seeded_cluster(redis_cluster):
    """Seeds a dataset on the emptied cluster, once per run of consecutive queries of that dataset and flavour."""
    state = {"name": None, "harness": None}

    def seed(dataset, flavour):
        if state["name"] != (dataset["name"], flavour):
            if state["harness"] is not None:
                state["harness"].backend.store.close()
            redis_cluster.flushall()
            backend = make_backend(flavour, {"cluster": redis_cluster.url(0)}, **dataset.get("instance_kwargs", {}))
            cr.seed_dataset(dataset, backend)
            state.update(name=(dataset["name"], flavour), harness=cluster_harness(redis_cluster, backend))
        return state["harness"]

    yield seed
    if state["harness"] is not None:
        state["harness"].backend.store.close()


@pytest.mark.parametrize("flavour_name", ["sync", "async"])
@pytest.mark.parametrize("dataset, query", list(cr.query_params()))
def test_query_on_the_cluster(seeded_cluster, dataset, query, flavour_name):
    # Every query gave the same result on three hosts and on one host (compat README 5).
    cr.check_query(dataset, query, "three_hosts", seeded_cluster(dataset, flavour_name))
