"""Settings: host dicts, URLs, defaults and identifiers resolved like 0.6.x, bad settings refused up front.

Nothing here connects to Redis: building a backend only resolves and checks.
"""
import ssl

import pytest
import redis

import analytics
from analytics.backends.dummy import Dummy
from analytics.backends.redis import Redis
from analytics.errors import ConfigurationError
from analytics.stores.settings import DEFAULT_TIMEOUT, build_store, parse_host_url, resolve_hosts


def one(settings):
    specs = resolve_hosts(settings)
    assert len(specs) == 1
    return specs[0]


def test_configuration_error_is_a_value_error():
    assert issubclass(ConfigurationError, ValueError)


@pytest.mark.parametrize("settings, where, identifier", [
    ({"hosts": [{"db": 3}]}, ("localhost", 6379, 3), "redis://localhost:6379/3"),
    ({"hosts": [{}]}, ("localhost", 6379, 0), "redis://localhost:6379/0"),
    ({"hosts": [{"host": "10.0.0.12", "port": 6380}]}, ("10.0.0.12", 6380, 0), "redis://10.0.0.12:6380/0"),
    ({"hosts": [{"port": "6381", "db": 2}]}, ("localhost", 6381, 2), "redis://localhost:6381/2"),
    # A "defaults" dict replaces the built-in one; what it lacks falls back to localhost:6379/0.
    ({"defaults": {"port": 6390, "db": 1}, "hosts": [{}]}, ("localhost", 6390, 1), "redis://localhost:6390/1"),
    ({"defaults": {"host": "cache"}, "hosts": [{"db": 4}]}, ("cache", 6379, 4), "redis://cache:6379/4"),
    ({"defaults": {"host": "cache", "port": 7000}, "hosts": [{"host": "other"}]}, ("other", 7000, 0), "redis://other:7000/0"),
    ({"hosts": [{"db": 3, "identifier": "analytics-a"}]}, ("localhost", 6379, 3), "analytics-a"),
])
def test_host_dicts(settings, where, identifier):
    spec = one(settings)
    assert (spec.options["host"], spec.options["port"], spec.options["db"]) == where
    assert spec.identifier == identifier


def test_port_text_keeps_its_identifier():
    assert one({"hosts": [{"port": "6379"}]}).identifier == one({"hosts": [{"port": 6379}]}).identifier


@pytest.mark.parametrize("url, expected", [
    ("redis://localhost:6379/3", {"host": "localhost", "port": 6379, "db": "3"}),
    ("redis://cache.internal", {"host": "cache.internal"}),
    ("redis:///5", {"db": "5"}),
    ("redis://user:p%40ss@h:7001/2", {"username": "user", "password": "p@ss", "host": "h", "port": 7001, "db": "2"}),
    ("redis://:secret@h/1", {"password": "secret", "host": "h", "db": "1"}),
    ("rediss://h:6380/0", {"host": "h", "port": 6380, "db": "0", "ssl": True}),
    ("unix:///tmp/redis.sock?db=4", {"unix_socket_path": "/tmp/redis.sock", "db": "4"}),
    ("redis://h/2?identifier=shard-a&timeout=2.5", {"host": "h", "db": "2", "identifier": "shard-a", "timeout": "2.5"}),
])
def test_parse_host_url(url, expected):
    assert parse_host_url(url) == expected


@pytest.mark.parametrize("url", ["http://h:6379/0", "redis://h:port/0", "redis://h/0?colour=red", "unix://", "h:6379"])
def test_bad_urls(url):
    with pytest.raises(ConfigurationError):
        resolve_hosts({"hosts": [url]})


def test_url_hosts_resolve_like_dicts():
    assert one({"hosts": ["redis://localhost:6379/3"]}).identifier == one({"hosts": [{"db": 3}]}).identifier
    assert one({"hosts": ["redis:///3"]}).identifier == "redis://localhost:6379/3"
    assert one({"defaults": {"port": 6390}, "hosts": ["redis://h"]}).identifier == "redis://h:6390/0"
    spec = one({"hosts": ["redis://h/2?identifier=shard-a"]})
    assert spec.identifier == "shard-a" and spec.options["db"] == 2


def test_connection_options():
    spec = one({"hosts": [{"host": "h", "port": "7000", "db": "2", "password": "pw"}]})
    assert spec.options["port"] == 7000 and spec.options["db"] == 2 and spec.options["password"] == "pw"
    assert spec.options["socket_timeout"] == DEFAULT_TIMEOUT == 5.0
    assert spec.options["decode_responses"] is True
    assert one({"hosts": [{"timeout": 0.5}]}).options["socket_timeout"] == 0.5
    assert one({"hosts": [{"timeout": None}]}).options["socket_timeout"] is None
    unix = one({"hosts": [{"unix_socket_path": "/tmp/r.sock", "db": 1}]}).options
    assert unix["unix_socket_path"] == "/tmp/r.sock" and "host" not in unix and "port" not in unix


def test_tls_options(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("")  # TLS files must exist when the backend is built
    spec = one({"hosts": [{"host": "h", "ssl": True, "ssl_ca_certs": str(ca), "ssl_cert_reqs": "required"}]})
    assert spec.options["ssl"] is True and spec.options["ssl_ca_certs"] == str(ca)
    assert spec.options["ssl_cert_reqs"] == ssl.CERT_REQUIRED
    assert one({"hosts": ["rediss://h"]}).options["ssl"] is True
    with pytest.raises(ConfigurationError):
        resolve_hosts({"hosts": [{"ssl_cert_reqs": "sometimes"}]})


@pytest.mark.parametrize("settings", [
    {},
    {"hosts": []},
    {"hosts": "redis://h"},
    {"hosts": {"db": 3}},
    {"hosts": [42]},
    {"hosts": [{"hots": "typo"}]},
    {"hosts": [{"db": "three"}]},
    {"hosts": [{"port": 0}]},
    {"hosts": [{"port": 70000}]},
    {"hosts": [{"port": True}]},
    {"hosts": [{"timeout": -1}]},
    {"hosts": [{"timeout": "soon"}]},
    {"hosts": [{}], "defaults": "localhost"},
    {"hosts": [{}], "defaults": {"colour": "red"}},
    {"hosts": [{}], "cluster": "redis://h"},
    {"hosts": [{}], "options": {}},
    {"defaults": {"db": 1}},
    {"hostz": [{}]},
    {"client": "redis://h"},
    "redis://h",
])
def test_bad_settings_refused_when_built(settings):
    with pytest.raises(ConfigurationError):
        Redis(settings)


def test_building_opens_no_connection():
    backend = Redis({"hosts": [{"host": "redis-a.invalid", "port": 6379}, {"host": "10.255.255.1", "db": 3}]})
    assert [node.name for node in backend.store.nodes] == ["redis://redis-a.invalid:6379/0", "redis://10.255.255.1:6379/3"]
    backend.store.close()


def test_client_setting_uses_the_applications_client():
    client = redis.Redis(host="127.0.0.1", port=1, db=2)
    backend = Redis({"client": client})
    assert backend.get_backend() is client
    assert build_store({"client": client}).primaries()[0].client is client


def test_prefix_checked():
    with pytest.raises(ValueError):
        Redis({"hosts": [{}]}, prefix="")
    with pytest.raises(TypeError):
        Redis({"hosts": [{}]}, prefix=5)


def test_create_analytic_backend():
    backend = analytics.create_analytic_backend({"backend": "analytics.backends.redis.Redis",
                                                 "settings": {"hosts": [{"db": 3}]}})
    assert isinstance(backend, Redis)
    assert backend.store.ring.node_for("anything") == 0
    backend.store.close()
    assert isinstance(analytics.create_analytic_backend({"backend": Dummy, "settings": {}}), Dummy)
    with pytest.raises(ValueError):
        analytics.create_analytic_backend({"settings": {}})
    with pytest.raises(TypeError):
        analytics.create_analytic_backend("analytics.backends.redis.Redis")
    with pytest.raises(ImportError):
        analytics.create_analytic_backend({"backend": "analytics.backends.nowhere.Redis"})
    with pytest.raises(ConfigurationError):
        analytics.create_analytic_backend({"backend": "analytics.backends.redis.Redis", "settings": {"hosts": []}})
