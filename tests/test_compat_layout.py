"""Layout vectors: every write scenario of 0.6.5 replayed on three hosts and on one host.

Each scenario runs on emptied databases of the session's redis-server, placed
like localhost:6379/3-5 (or /6) through explicit identifiers, and must return
what 0.6.5 returned and leave exactly the contents 0.6.5 left, host by host.
Entries changed by a POLICY correction are skipped by name (``compat_replay.SKIPS``).
"""
import datetime

import pytest

import compat_replay as cr
from conftest import host_settings

from flavours import make_backend


def _op_skips():
    for config in cr.REPLAY_CONFIGS:
        for scenario in cr.scenarios(config):
            for index in range(len(scenario["ops"])):
                key = "%s#%d" % (scenario["name"], index)
                if key in cr.SKIPS:
                    yield pytest.param(key, id="%s-%s" % (config, key), marks=pytest.mark.skip(reason=cr.SKIPS[key]))


def _harness(server, config, scenario, flavour="sync"):
    dbs = cr.host_dbs(config)
    backend = make_backend(flavour, host_settings(server, dbs), **scenario.get("instance_kwargs", {}))
    return cr.host_list_harness(backend, [server.client(db) for db in dbs])


@pytest.mark.parametrize("config, scenario", list(cr.layout_params()))
def test_scenario(flushed, flavour, config, scenario):
    harness = _harness(flushed, config, scenario, flavour)
    try:
        not_compared = cr.replay_scenario(scenario, config, harness)
    finally:
        harness.backend.store.close()
    assert not_compared == [i for i in range(len(scenario["ops"])) if "%s#%d" % (scenario["name"], i) in cr.SKIPS]


@pytest.mark.parametrize("key", list(_op_skips()))
def test_op_result_not_compared(key):
    """Placeholder items so that every op-level skip shows up, with its correction, in the report."""


@pytest.mark.parametrize("config, scenario", [
    pytest.param(config, scenario, id="%s-%s" % (config, scenario["name"]))
    for config in cr.REPLAY_CONFIGS for scenario in cr.scenarios(config) if scenario["name"] in cr.SKIPS
])
def test_skipped_scenario_really_differs(flushed, config, scenario):
    """A whole-scenario skip must be needed: replayed anyway, the scenario no longer matches 0.6.5."""
    harness = _harness(flushed, config, scenario)
    try:
        with pytest.raises(Exception):
            cr.replay_scenario(scenario, config, harness, honour_skips=False)
    finally:
        harness.backend.store.close()


@pytest.mark.parametrize("config", cr.REPLAY_CONFIGS)
def test_skipped_op_results_really_differ(flushed, config):
    """Every op-level skip must be needed: its corrected result differs from 0.6.5's."""
    for scenario in cr.scenarios(config):
        skipped = [i for i in range(len(scenario["ops"])) if "%s#%d" % (scenario["name"], i) in cr.SKIPS]
        if not skipped:
            continue
        flushed.client().flushall()
        harness = _harness(flushed, config, scenario)
        recorded = cr.scenario_results(scenario, config)["op_results"]
        try:
            for index, op in enumerate(scenario["ops"]):
                args, kwargs = cr.call_args(op)
                value = cr.normalise(getattr(harness.backend, op["op"])(*args, **kwargs))
                if index in skipped:
                    assert value != recorded[index]["result"], "%s#%d needs no skip" % (scenario["name"], index)
        finally:
            harness.backend.store.close()


def test_skips_table_names_real_entries():
    cr.check_skips_table()


def test_decode_and_normalise():
    decoded = cr.decode([{"date": "2012-02-29"}, {"datetime": "2012-05-10T23:30:00"}, {"tuple": [1, {"tuple": ["a"]}]},
                         None, [True, "x"]])
    assert decoded == [datetime.date(2012, 2, 29), datetime.datetime(2012, 5, 10, 23, 30), (1, ("a",)), None, [True, "x"]]
    generator = cr.decode({"generator": ["a", "b"]})
    assert list(generator) == ["a", "b"] and list(generator) == []
    assert cr.normalise(({"2012-01-02", "2012-01-01"}, {"2012-01-01": 3})) == [["2012-01-01", "2012-01-02"], {"2012-01-01": 3}]
    with pytest.raises(ValueError):
        cr.decode({"date": "2012-01-01", "extra": 1})
