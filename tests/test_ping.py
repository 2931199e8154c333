"""ping(): one PING per node, the node names back, and a down node named by the error."""
import pytest

from servers import RedisServer

from analytics.backends.dummy import Dummy
from analytics.backends.redis import Redis
from analytics.errors import HostUnavailableError


def test_ping_names_every_host_in_order(flushed):
    settings = {"hosts": ["%s/3" % flushed.url, {"host": "127.0.0.1", "port": flushed.port, "db": 4,
                                                  "identifier": "named"}]}
    with Redis(settings) as backend:
        before = backend.store.round_trips
        assert backend.ping() == ["redis://127.0.0.1:%d/3" % flushed.port, "named"]
        assert backend.store.round_trips - before == 2


def test_ping_raises_naming_the_down_host_and_recovers(flushed):
    spare = RedisServer().start()
    try:
        with Redis({"hosts": [flushed.url + "/1", spare.url + "/2"]}) as backend:
            spare.stop()
            with pytest.raises(HostUnavailableError) as caught:
                backend.ping()
            assert caught.value.host == "redis://127.0.0.1:%d/2" % spare.port
            spare.start()
            assert len(backend.ping()) == 2
    finally:
        spare.cleanup()


@pytest.mark.cluster
def test_ping_on_a_cluster(redis_cluster):
    with Redis({"cluster": redis_cluster.url()}) as backend:
        assert len(backend.ping()) == len(redis_cluster.primary_ports())


def test_dummy_ping_does_nothing():
    assert Dummy().ping() is None
