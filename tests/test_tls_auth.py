"""Passwords, ACL users and TLS, on host lists and on Redis Cluster, against real servers.

The servers of this module require a password for the default user and know
an ACL user ``alice``; the TLS ones serve TLS only, with a certificate signed
by a throw-away CA generated with openssl for this run.
"""
import datetime
import time

import pytest
import redis
from redis.cluster import RedisCluster

from cluster_servers import LocalCluster, make_tls_material, report, tls_supported
from servers import RedisServer, free_port

from analytics.backends.redis import Redis
from analytics.errors import HostUnavailableError

PASSWORD = "s3cret"
USER, USER_PASSWORD = "alice", "w0nder land"
DAY = datetime.date(2012, 6, 15)
AUTH_ARGS = ["--requirepass", PASSWORD, "--user", USER, "on", ">" + USER_PASSWORD, "~*", "&*", "+@all"]
#: The ACL password in a URL: its space percent-encoded.
URL_USER = "%s:%s" % (USER, USER_PASSWORD.replace(" ", "%20"))


@pytest.fixture(scope="module")
def tls():
    if not tls_supported():
        pytest.skip("this redis-server was built without TLS (install Debian's redis-server)")
    material = make_tls_material()
    yield material
    material.cleanup()


@pytest.fixture(scope="module")
def auth_server():
    server = RedisServer(extra=AUTH_ARGS).start()
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def tls_server(tls):
    port = free_port()
    server = RedisServer(port=port, extra=["--port", "0", "--tls-port", str(port)] + tls.server_args() + AUTH_ARGS)
    yield server.start()
    server.cleanup()


@pytest.fixture(scope="module")
def tls_cluster(request, tls):
    cluster = LocalCluster(tls=tls, password=PASSWORD, users={USER: USER_PASSWORD}).start()
    report(request.config, "\nTLS Redis Cluster (password + ACL user) of 3 primaries started in %.2f s"
           % cluster.startup_seconds)
    yield cluster
    cluster.cleanup()


def admin(server, db, tls=None):
    """A direct client of one database, as the default user, outside the library."""
    options = dict(password=PASSWORD, socket_timeout=2)
    if tls is not None:
        options.update(ssl=True, ssl_ca_certs=tls.ca_cert)
    return server.client(db, **options)


def exercise(backend):
    """Writes and reads through ``backend``; returns what the reads gave."""
    backend.track_metric(["u", "v"], "m", DAY, inc_amt=2)
    backend.track_count("u", "logins", 3)
    return (backend.get_count("u", "m"), backend.get_count("u", "logins"),
            backend.get_metric_by_day("v", "m", DAY, 2))


EXPECTED = (2, 3, ({"2012-06-15", "2012-06-16"}, {"2012-06-15": 2, "2012-06-16": 0}))


def written_keys(clients):
    keys = set()
    for client in clients:
        keys.update(client.keys("*"))
    return keys


ALL_KEYS = {
    "_analytics:user:u:analy:12-06", "_analytics:user:u:analy:12", "_analytics:analy:u:count:m",
    "_analytics:user:v:analy:12-06", "_analytics:user:v:analy:12", "_analytics:analy:v:count:m",
    "_analytics:analy:u:count:logins",
}


# -- host lists -------------------------------------------------------------------


@pytest.mark.parametrize("form", ["password dict", "acl dict", "password url", "acl url"])
def test_host_list_with_password_or_acl_user(auth_server, form):
    port = auth_server.port
    if form == "password dict":
        hosts = [{"host": "127.0.0.1", "port": port, "db": db, "password": PASSWORD} for db in (1, 2)]
    elif form == "acl dict":
        hosts = [{"host": "127.0.0.1", "port": port, "db": db, "username": USER, "password": USER_PASSWORD}
                 for db in (1, 2)]
    elif form == "password url":
        hosts = ["redis://:%s@127.0.0.1:%d/%d" % (PASSWORD, port, db) for db in (1, 2)]
    else:
        hosts = ["redis://%s@127.0.0.1:%d/%d" % (URL_USER, port, db) for db in (1, 2)]
    clients = [admin(auth_server, db) for db in (1, 2)]
    for client in clients:
        client.flushdb()
    backend = Redis({"hosts": hosts})
    try:
        assert exercise(backend) == EXPECTED
        if form.startswith("acl"):
            who = backend.get_backend().get_conn("any").acl_whoami()
            assert who == USER
    finally:
        backend.store.close()
    assert written_keys(clients) == ALL_KEYS


@pytest.mark.parametrize("credentials", [{"password": "wrong"}, {"username": USER, "password": "wrong"}, {}])
def test_wrong_or_missing_credentials_fail_clearly_and_write_nothing(auth_server, credentials):
    client = admin(auth_server, 3)
    client.flushdb()
    backend = Redis({"hosts": [dict(host="127.0.0.1", port=auth_server.port, db=3, timeout=1, **credentials)]})
    try:
        with pytest.raises(HostUnavailableError) as raised:
            backend.track_metric("u", "m", DAY)
    finally:
        backend.store.close()
    message = str(raised.value)
    assert "redis://127.0.0.1:%d/3" % auth_server.port in message and "nothing was sent" in message
    assert isinstance(raised.value.cause, redis.exceptions.AuthenticationError)
    if credentials:
        assert "invalid username-password pair" in message
    assert client.dbsize() == 0


@pytest.mark.parametrize("form", ["url with CA", "dict with CA", "dict without verification"])
def test_host_list_over_tls(tls, tls_server, form):
    port = tls_server.port
    if form == "url with CA":
        hosts = ["rediss://%s@127.0.0.1:%d/%d?ssl_ca_certs=%s" % (URL_USER, port, db, tls.ca_cert) for db in (1, 2)]
    elif form == "dict with CA":
        hosts = [{"host": "127.0.0.1", "port": port, "db": db, "password": PASSWORD, "ssl": True,
                  "ssl_ca_certs": tls.ca_cert} for db in (1, 2)]
    else:
        hosts = [{"host": "127.0.0.1", "port": port, "db": db, "password": PASSWORD, "ssl": True,
                  "ssl_cert_reqs": "none"} for db in (1, 2)]
    clients = [admin(tls_server, db, tls) for db in (1, 2)]
    for client in clients:
        client.flushdb()
    backend = Redis({"hosts": hosts})
    try:
        assert exercise(backend) == EXPECTED
    finally:
        backend.store.close()
    assert written_keys(clients) == ALL_KEYS


def test_tls_host_without_the_ca_is_refused(tls, tls_server):
    backend = Redis({"hosts": ["rediss://:%s@127.0.0.1:%d/4" % (PASSWORD, tls_server.port)]})
    try:
        with pytest.raises(HostUnavailableError) as raised:
            backend.track_count("u", "m")
    finally:
        backend.store.close()
    assert "certificate verify failed" in str(raised.value)
    assert admin(tls_server, 4, tls).dbsize() == 0


def test_plain_connection_to_a_tls_port_fails_within_the_timeout(tls_server):
    backend = Redis({"hosts": [{"host": "127.0.0.1", "port": tls_server.port, "db": 5, "password": PASSWORD,
                                "timeout": 1}]})
    began = time.monotonic()
    try:
        with pytest.raises(HostUnavailableError):
            backend.track_count("u", "m")
    finally:
        backend.store.close()
    assert time.monotonic() - began < 2


# -- Redis Cluster ------------------------------------------------------------------


def _cluster_keys(cluster):
    keys = set()
    for port in cluster.primary_ports():
        with cluster.node_client(port) as client:
            keys.update(client.keys("*"))
    return keys


@pytest.mark.cluster
@pytest.mark.parametrize("form", ["acl user in the url", "password in the url, CA in options"])
def test_cluster_over_tls_with_credentials(tls, tls_cluster, form):
    tls_cluster.flushall()
    if form == "acl user in the url":
        settings = {"cluster": "rediss://%s@127.0.0.1:%d?ssl_ca_certs=%s"
                               % (URL_USER, tls_cluster.ports[0], tls.ca_cert)}
    else:
        settings = {"cluster": [tls_cluster.url(i, password=PASSWORD) for i in (1, 2)],
                    "options": {"ssl_ca_certs": tls.ca_cert, "timeout": 2}}
    backend = Redis(settings)
    try:
        assert isinstance(backend.get_backend(), RedisCluster)
        assert exercise(backend) == EXPECTED
        assert _cluster_keys(tls_cluster) == ALL_KEYS
        backend.clear_all()
        assert _cluster_keys(tls_cluster) == set()
    finally:
        backend.store.close()


@pytest.mark.cluster
@pytest.mark.parametrize("problem", ["wrong password", "no CA"])
def test_cluster_with_bad_credentials_or_tls_fails_at_construction(tls, tls_cluster, problem):
    port = tls_cluster.ports[0]
    if problem == "wrong password":
        settings = {"cluster": "rediss://:nope@127.0.0.1:%d?ssl_ca_certs=%s" % (port, tls.ca_cert)}
        cause = "invalid username-password pair"
    else:
        settings = {"cluster": "rediss://:%s@127.0.0.1:%d" % (PASSWORD, port)}
        cause = "certificate verify failed"
    began = time.monotonic()
    with pytest.raises(HostUnavailableError) as raised:
        Redis(dict(settings, options={"timeout": 1}))
    assert time.monotonic() - began < 3
    assert "127.0.0.1:%d" % port in str(raised.value)
    assert cause in str(raised.value)
