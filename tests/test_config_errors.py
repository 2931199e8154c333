"""Bad settings are refused when the backend is built, with a message naming the setting.

Every case here used to be accepted by the constructor or to fail only on the
first request (or is a check that must stay); the hosts point at a port nothing
listens on, so a case that slipped through to a connection would show as a
connection error instead of the ConfigurationError asserted.
"""
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import analytics
from analytics.backends.redis import Redis
from analytics.errors import ConfigurationError
from servers import free_port

DEAD = {"host": "127.0.0.1", "port": free_port()}


def host(**changes):
    return {"hosts": [dict(DEAD, **changes)]}


CASES = [
    ("unknown top-level key", {"hosts": [DEAD], "hots": []}, "'hots'"),
    ("unknown host key", host(tiemout=1), "'tiemout'"),
    ("unknown defaults key", {"hosts": [DEAD], "defaults": {"prot": 1}}, "'prot'"),
    ("duplicate explicit identifiers (C9)",
     {"hosts": [dict(DEAD, identifier="a"), dict(DEAD, db=1, identifier="a")]}, r"identifier 'a'"),
    ("duplicate implicit identifiers (C9)", {"hosts": [DEAD, dict(DEAD, port=str(DEAD["port"]))]}, "same identifier"),
    ("port not a number", host(port="abc"), "port"),
    ("port with a fraction", host(port=6379.5), "port"),
    ("port a bool", host(port=True), "port"),
    ("port out of range", host(port=70000), "port"),
    ("port zero", host(port=0), "port"),
    ("db not a number", host(db="x"), "db"),
    ("db negative", host(db=-1), "db"),
    ("db with a fraction", host(db=1.5), "db"),
    ("timeout not a number", host(timeout="soon"), "timeout"),
    ("timeout zero", host(timeout=0), "timeout"),
    ("timeout NaN", host(timeout=float("nan")), "timeout"),
    ("timeout infinite", host(timeout=float("inf")), "timeout"),
    ("timeout a bool", host(timeout=True), "timeout"),
    ("host not text", host(host=127001), "host"),
    ("host empty", host(host=""), "host"),
    ("host None", host(host=None), "host"),
    ("identifier a list", host(identifier=["a"]), "identifier"),
    ("password not text", host(password=["secret"]), "password"),
    ("username not text", host(username=5), "username"),
    ("unix socket not text", {"hosts": [{"unix_socket_path": 5}]}, "unix_socket_path"),
    ("ssl_cert_reqs unknown word", host(ssl_cert_reqs="sometimes"), "ssl_cert_reqs"),
    ("ssl_cert_reqs unknown number", host(ssl_cert_reqs=99), "ssl_cert_reqs"),
    ("ssl_certfile not text", host(ssl_certfile=5), "ssl_certfile"),
    ("hosts a string", {"hosts": "redis://localhost"}, r"settings\['hosts'\]"),
    ("hosts a dict", {"hosts": DEAD}, r"settings\['hosts'\]"),
    ("hosts empty", {"hosts": []}, r"settings\['hosts'\]"),
    ("no hosts at all", {}, r"settings\['hosts'\]"),
    ("host a list", {"hosts": [["127.0.0.1", 6379]]}, r"settings\['hosts'\]\[0\]"),
    ("defaults not a dict", {"hosts": [DEAD], "defaults": ["x"]}, r"settings\['defaults'\]"),
    ("defaults without hosts", {"cluster": "redis://127.0.0.1:1", "defaults": {}}, "defaults"),
    ("URL scheme", {"hosts": ["http://127.0.0.1:1/0"]}, "scheme"),
    ("URL port", {"hosts": ["redis://127.0.0.1:abc/0"]}, "port"),
    ("URL query key", {"hosts": ["redis://127.0.0.1:1/0?tiemout=1"]}, "tiemout"),
    ("URL db", {"hosts": ["redis://127.0.0.1:1/x"]}, "db"),
    ("settings not a dict", [DEAD], "settings"),
    ("two forms at once", {"hosts": [DEAD], "client": None}, "'hosts' and 'client'|hosts and client"),
    ("client of another kind", {"client": "redis://127.0.0.1:1"}, r"settings\['client'\]"),
]


@pytest.mark.parametrize("settings, named", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_settings_fail_at_build_naming_the_setting(settings, named):
    with pytest.raises(ConfigurationError) as caught:
        Redis(settings)
    assert isinstance(caught.value, ValueError)
    assert re.search(named, str(caught.value)), str(caught.value)


@pytest.mark.parametrize("settings, named", [case[1:] for case in CASES[:8]], ids=[c[0] for c in CASES[:8]])
def test_the_front_door_reports_the_same(settings, named):
    with pytest.raises(ConfigurationError, match=named):
        analytics.create_analytic_backend({"backend": "analytics.backends.redis.Redis", "settings": settings})


def test_building_opens_no_connection():
    """A good configuration builds even while its hosts are down: errors then are host errors, not config."""
    backend = Redis({"hosts": [DEAD, dict(DEAD, db=1)], "defaults": {"timeout": 0.5}})
    with pytest.raises(Exception) as caught:
        backend.get_count("u", "m")
    assert not isinstance(caught.value, ConfigurationError)


@pytest.mark.parametrize("settings", [
    host(port=str(DEAD["port"])), host(db="2"), host(timeout="1.5"), host(timeout=None), host(identifier=7),
    {"hosts": ["redis://127.0.0.1:%d/3?timeout=2" % DEAD["port"]]}, host(ssl_cert_reqs="none"),
])
def test_good_variants_still_build(settings):
    Redis(settings).store.close()


@pytest.mark.parametrize("backend, error, named", [
    ("analytics.backends.nowhere.Redis", ImportError, "nowhere"),
    (None, ValueError, "backend"),
])
def test_front_door_names_a_bad_backend(backend, error, named):
    with pytest.raises(error, match=named):
        analytics.create_analytic_backend({"backend": backend, "settings": {}})


HOST_KEYS = ["host", "port", "db", "password", "username", "timeout", "unix_socket_path", "identifier",
             "ssl", "ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_cert_reqs"]
junk_value = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=6), st.binary(max_size=4),
    st.text(st.characters(categories=["Cs"]), min_size=1, max_size=2),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
    st.sampled_from(["127.0.0.1", "localhost", "6379", "0", "1.5", "nan", "-1", "redis://127.0.0.1:1/0"]),
)
host_entry = st.one_of(
    st.dictionaries(st.sampled_from(HOST_KEYS + ["hots", "tiemout"]), junk_value, max_size=4),
    st.text(max_size=30).map(lambda tail: "redis://" + tail),
    st.text(st.sampled_from("[]:/@?=%&#h1x\ud800"), max_size=12).map(lambda tail: "redis://" + tail),
    st.text(st.sampled_from("[]:/@?=%&#h1x\ud800"), max_size=12).map(lambda tail: "rediss://" + tail),
    st.sampled_from(["redis://127.0.0.1:1/0", "rediss://:pw@127.0.0.1:1/2?timeout=0.5", "unix:///tmp/x.sock?db=1",
                     "redis://127.0.0.1:99999/0", "redis://[::1]:1/0", "redis://127.0.0.1:1/0?db=x"]),
    junk_value,
)
junk_settings = st.one_of(
    st.fixed_dictionaries({"hosts": st.lists(host_entry, max_size=3)},
                          optional={"defaults": st.one_of(st.dictionaries(st.sampled_from(HOST_KEYS), junk_value,
                                                                          max_size=3), junk_value)}),
    st.dictionaries(st.sampled_from(["hosts", "defaults", "options", "client", "colour"]), junk_value, max_size=2),
    junk_value,
)


@settings(max_examples=600, deadline=None, database=None)
@given(junk_settings)
def test_random_settings_either_build_or_raise_configuration_error(settings_):
    try:
        backend = Redis(settings_)
    except ConfigurationError as exc:
        assert str(exc)
    else:
        backend.store.close()
