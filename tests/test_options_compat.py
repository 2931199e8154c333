"""The 0.6.5 layout replay with every new option on: 0.6.5's keys and values are still exactly the vectors'.

The options add keys of their own (hours, in a namespace 0.6.5 never wrote) and
expiries; the replay compares only the keys 0.6.5 could have written, so it
shows that no option changes a byte of them, nor any result.  The retention is
long enough that the vectors' 2012 buckets are still kept.
"""
import datetime

import pytest

import compat_replay as cr
from conftest import host_settings
from flavours import make_backend

CENTURY = datetime.timedelta(days=36525)
OPTIONS = dict(hours=True, years=True, timezone="Europe/Berlin",
               retention={"hour": CENTURY, "day": CENTURY, "week": CENTURY, "month": CENTURY, "unique": CENTURY})


@pytest.fixture(autouse=True)
def redis_7(redis_server):
    """Retention sets expiries with EXPIREAT NX, read back here with EXPIRETIME: Redis 7.0+."""
    if int(redis_server.client().info("server")["redis_version"].split(".")[0]) < 7:
        pytest.skip("needs Redis 7.0 or newer")


def only_065_keys(dumps, prefix):
    new = (prefix + ":hour:", prefix + ":uniq:")
    return [{key: value for key, value in dump.items() if not key.startswith(new)} for dump in dumps]


@pytest.mark.parametrize("config, scenario", list(cr.layout_params()))
def test_scenario_with_every_option(flushed, flavour, config, scenario):
    dbs = cr.host_dbs(config)
    backend = make_backend(flavour, host_settings(flushed, dbs), **dict(OPTIONS, **scenario.get("instance_kwargs", {})))
    clients = [flushed.client(db) for db in dbs]
    harness = cr.host_list_harness(backend, clients)
    everything = harness.dump
    harness.dump = lambda: only_065_keys(everything(), backend._prefix)
    try:
        cr.replay_scenario(scenario, config, harness)
        keys = {key: client for client in clients for key in client.keys("*")}
        expiring = [key for key, client in keys.items() if client.expiretime(key) > 0]
        # The options did act: hashes expire (counters do not), datetimes were counted by hour.
        assert all(":count:" not in key for key in expiring)
        assert all(key in expiring for key in keys if key.startswith(backend._prefix + ":user:"))
        if scenario["name"] == "track_metric_tuples_and_datetimes":
            assert any(key.startswith(backend._prefix + ":hour:") for key in keys)
    finally:
        backend.store.close()
