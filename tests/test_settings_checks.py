"""Issue 14, G: TLS files and a standalone server given as a cluster are refused at build time."""
import os

import pytest

from analytics.backends.redis import Redis
from analytics.errors import ConfigurationError, HostUnavailableError

MISSING = "/nonexistent/analytics-tests/ca.pem"


@pytest.fixture
def pem(tmp_path):
    path = tmp_path / "file.pem"
    path.write_text("not a real certificate, but a readable file\n")
    return str(path)


@pytest.mark.parametrize("key", ["ssl_ca_certs", "ssl_certfile", "ssl_keyfile"])
def test_missing_tls_file_of_a_host_dict(key):
    with pytest.raises(ConfigurationError, match=r"settings\['hosts'\]\[0\]: %s '%s' does not exist" % (key, MISSING)):
        Redis({"hosts": [{"host": "127.0.0.1", "port": 1, "ssl": True, key: MISSING}]})


@pytest.mark.parametrize("key", ["ssl_ca_certs", "ssl_certfile", "ssl_keyfile"])
def test_missing_tls_file_in_defaults_and_urls(key):
    with pytest.raises(ConfigurationError, match="%s '%s'" % (key, MISSING)):
        Redis({"hosts": [{"host": "127.0.0.1", "port": 1}], "defaults": {"ssl": True, key: MISSING}})
    with pytest.raises(ConfigurationError, match="%s '%s'" % (key, MISSING)):
        Redis({"hosts": ["rediss://127.0.0.1:1/0?%s=%s" % (key, MISSING)]})


def test_a_folder_is_not_a_tls_file(tmp_path):
    with pytest.raises(ConfigurationError, match="ssl_ca_certs '%s' does not exist or is not a file" % tmp_path):
        Redis({"hosts": [{"host": "127.0.0.1", "port": 1, "ssl_ca_certs": str(tmp_path)}]})


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file whatever its mode")
def test_an_unreadable_tls_file(pem):
    os.chmod(pem, 0)
    with pytest.raises(ConfigurationError, match="ssl_keyfile '%s' is not readable" % pem):
        Redis({"hosts": [{"host": "127.0.0.1", "port": 1, "ssl_keyfile": pem}]})


def test_readable_tls_files_still_build(pem):
    Redis({"hosts": [{"host": "127.0.0.1", "port": 1, "ssl_ca_certs": pem, "ssl_certfile": pem,
                      "ssl_keyfile": pem}]}).store.close()


@pytest.mark.parametrize("key", ["ssl_ca_certs", "ssl_certfile", "ssl_keyfile"])
def test_missing_tls_file_of_a_cluster_url_or_option(key):
    # Refused before any node is contacted: nothing listens on port 1.
    with pytest.raises(ConfigurationError, match=r"settings\['cluster'\]: %s '%s'" % (key, MISSING)):
        Redis({"cluster": "rediss://127.0.0.1:1?%s=%s" % (key, MISSING)})
    with pytest.raises(ConfigurationError, match=r"settings\['options'\]: %s '%s'" % (key, MISSING)):
        Redis({"cluster": "rediss://127.0.0.1:1", "options": {key: MISSING}})


def test_a_standalone_server_given_as_a_cluster(flushed):
    with pytest.raises(ConfigurationError, match="127.0.0.1:%d answered, but it is not in cluster mode"
                       % flushed.port) as caught:
        Redis({"cluster": flushed.url, "options": {"timeout": 2}})
    assert not isinstance(caught.value, HostUnavailableError)


def test_a_cluster_that_does_not_answer_is_still_unavailable():
    with pytest.raises(HostUnavailableError):
        Redis({"cluster": "redis://127.0.0.1:1", "options": {"timeout": 1}})
