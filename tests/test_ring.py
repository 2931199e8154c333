"""Placement: every route of ring.json through the settings path (no connection needed).

``Redis(settings)`` is built from each recorded configuration and its store must
send every one of the 4362 keys to the recorded host.  Host URLs must place keys
exactly like the equivalent host dicts; two hosts sharing an identifier are
refused when the backend is built (POLICY C9).
"""
from urllib.parse import quote

import pytest

import compat_replay as cr

from analytics.backends.redis import Redis
from analytics.ring import HashRing, key_position

RING = cr.load("ring")
CONFIGS = {config["name"]: config for config in RING["configs"]}
SINGLE_ROUTE_CONFIGS = [name for name, config in CONFIGS.items() if "routes" in config]


def _routes(settings):
    backend = Redis(settings)
    try:
        return [backend.store.route(key) for key in RING["keys"]]
    finally:
        backend.store.close()


def test_vectors_cover_every_config():
    assert sorted(CONFIGS) == sorted([
        "one_host", "two_hosts", "three_hosts", "five_hosts", "ten_hosts", "three_hosts_reordered",
        "explicit_hosts_ports", "settings_defaults_replace_builtin", "custom_identifier",
        "custom_identifier_mixed", "duplicate_identifier",
    ])
    assert len(RING["keys"]) == len(RING["key_points"]) == 4362


def test_key_positions():
    assert [key_position(key) for key in RING["keys"]] == RING["key_points"]


@pytest.mark.parametrize("name", SINGLE_ROUTE_CONFIGS)
def test_routes_through_settings(name):
    config = CONFIGS[name]
    assert _routes(config["settings"]) == config["routes"]


@pytest.mark.parametrize("name", SINGLE_ROUTE_CONFIGS)
def test_the_store_sends_each_key_to_its_recorded_host(name):
    # What batches are grouped by: the ring's placer behind the route cache.
    config = CONFIGS[name]
    backend = Redis(config["settings"])
    try:
        store = backend.store
        placed = [store.nodes.index(store.topology.node_for(key)) for key in RING["keys"]]
        remembered = [store.nodes.index(store.topology.node_for(key)) for key in RING["keys"]]
    finally:
        store.close()
    assert placed == remembered == config["routes"]


def test_a_placer_gives_what_node_for_indexes():
    ring = HashRing(CONFIGS["five_hosts"]["host_identifiers"])
    hosts = ["host %d" % index for index in range(5)]
    place = ring.placer(hosts)
    assert [place(key) for key in RING["keys"]] == [hosts[index] for index in CONFIGS["five_hosts"]["routes"]]
    assert place(RING["keys"][7].encode("utf-8")) == place(RING["keys"][7])


@pytest.mark.parametrize("name", SINGLE_ROUTE_CONFIGS)
def test_ring_points(name):
    config = CONFIGS[name]
    ring = HashRing(config["host_identifiers"])
    assert [[point, owners[0]] for point, owners in ring.points] == config["ring_points"]


def test_duplicate_identifier_refused_when_built():
    with pytest.raises(ValueError):
        Redis(CONFIGS["duplicate_identifier"]["settings"])


def test_duplicate_identifier_ring_describes_every_owner():
    """The ring itself still knows that "same" owns hosts 0 and 1, as 0.6.5 routed it."""
    config = CONFIGS["duplicate_identifier"]
    ring = HashRing(config["host_identifiers"])
    assert [list(ring.nodes_for(key)) for key in RING["keys"]] == config["routes_multi"]
    recorded = [[point, owner if isinstance(owner, list) else [owner]] for point, owner in config["ring_points"]]
    assert [[point, list(owners)] for point, owners in ring.points] == recorded


def _as_url(host):
    """A host dict written as a URL holding exactly the same keys (absent ones stay absent)."""
    netloc = str(host.get("host", ""))
    if "port" in host:
        netloc += ":%s" % host["port"]
    url = "redis://%s/%s" % (netloc, host.get("db", ""))
    if "identifier" in host:
        url += "?identifier=" + quote(host["identifier"], safe="")
    return url


@pytest.mark.parametrize("name", SINGLE_ROUTE_CONFIGS)
def test_url_hosts_placed_like_dicts(name):
    config = CONFIGS[name]
    settings = dict(config["settings"], hosts=[_as_url(host) for host in config["settings"]["hosts"]])
    assert _routes(settings) == config["routes"]


@pytest.mark.parametrize("name", [n for n in SINGLE_ROUTE_CONFIGS
                                  if not any("identifier" in h for h in CONFIGS[n]["settings"]["hosts"])])
def test_identifier_urls_as_hosts(name):
    """A host given as the URL that is its identifier (``"redis://localhost:6379/3"`` == ``{"db": 3}``)."""
    config = CONFIGS[name]
    assert _routes({"hosts": list(config["host_identifiers"])}) == config["routes"]


def test_url_equals_dict_example():
    dict_routes = _routes({"hosts": [{"db": 3}, {"db": 4}, {"db": 5}]})
    assert _routes({"hosts": ["redis://localhost:6379/3", {"db": 4}, "redis://localhost:6379/5"]}) == dict_routes
    assert dict_routes == CONFIGS["three_hosts"]["routes"]


def test_port_text_and_int_place_alike():
    assert _routes({"hosts": [{"db": 3, "port": "6379"}, {"db": 4, "port": 6379}, {"db": 5}]}) == CONFIGS["three_hosts"]["routes"]


def test_defaults_replace_builtin_not_merged():
    """With a ``defaults`` dict, hosts without a port take its port, and no built-in host is merged in."""
    settings = CONFIGS["settings_defaults_replace_builtin"]["settings"]
    without_defaults = {"hosts": [dict(host) for host in settings["hosts"]]}
    assert _routes(without_defaults) != CONFIGS["settings_defaults_replace_builtin"]["routes"]
