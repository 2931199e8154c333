"""A primary of a Redis Cluster dies mid-stream and its replica takes over.

The cluster (3 primaries, 1 replica each, ``cluster-node-timeout`` 1000 ms) is
started for this module only.  One backend keeps calling while a primary is
killed; every call must succeed or raise a clear error within the configured
timeout, no event may be counted twice, and the same backend must work again
once the replica is promoted.

Each tracked call uses its own metric, so each of its four counters must end
at 0 or 1: a batch re-sent after it had been applied would leave a 2.
"""
import datetime
import threading
import time

import pytest
import redis

from cluster_servers import LocalCluster, report

from analytics.backends.redis import Redis
from analytics.errors import HostUnavailableError

pytestmark = pytest.mark.cluster

TIMEOUT = 1.0
DAY = datetime.date(2012, 6, 15)
#: How long calls go on after the kill before the test gives up waiting for the
#: promoted replica (failover takes about two node timeouts).
RECOVERY_LIMIT = 20.0


@pytest.fixture(scope="module")
def replicated_cluster(request):
    cluster = LocalCluster(primaries=3, replicas=1, node_timeout_ms=1000).start()
    report(request.config, "\nRedis Cluster of 3 primaries + 3 replicas started in %.2f s" % cluster.startup_seconds)
    yield cluster
    cluster.cleanup()


def _values(native, index):
    """The four counters call ``index`` wrote, read through the application's own cluster client."""
    metric = "e%d" % index
    return [
        native.hget("_analytics:user:f:analy:12-06", metric + ":12-06-15"),
        native.hget("_analytics:user:f:analy:12", metric + ":12-06-11"),
        native.hget("_analytics:user:f:analy:12", metric + ":12-06"),
        native.get("_analytics:analy:f:count:" + metric),
    ]


def test_killed_primary_fails_fast_counts_nothing_twice_and_recovers(request, replicated_cluster):
    cluster = replicated_cluster
    backend = Redis({"cluster": [cluster.url(i) for i in range(len(cluster.servers))],
                     "options": {"timeout": TIMEOUT}})
    # The counter of metric e0 decides the victim, so that calls really touch it.
    with cluster.node_client(cluster.ports[0]) as client:
        slot = client.execute_command("CLUSTER KEYSLOT", "_analytics:analy:f:count:e0")
        ranges = client.execute_command("CLUSTER SLOTS")
    victim_port, replica_port = next(
        (int(entry[2][1]), int(entry[3][1])) for entry in ranges if int(entry[0]) <= slot <= int(entry[1]))
    victim = cluster.server_on(victim_port)

    calls = []  # (index, started, seconds, outcome: None or the exception)
    killed_at = []

    def kill():
        killed_at.append(time.monotonic())
        victim.stop()

    timer = threading.Timer(0.3, kill)
    timer.start()
    index, streak = 0, 0
    try:
        began = time.monotonic()
        while streak < 20:
            started = time.monotonic()
            assert started - began < RECOVERY_LIMIT, "the cluster did not recover: %r" % (calls[-3:],)
            try:
                backend.track_metric("f", "e%d" % index, DAY)
                backend.get_counts([("f", "e%d" % index), ("f", "e0")])
                outcome = None
            except Exception as exc:  # every failure is examined below
                outcome = exc
            calls.append((index, started, time.monotonic() - started, outcome))
            streak = streak + 1 if outcome is None and killed_at and started > killed_at[0] else 0
            index += 1
            if outcome is not None:
                time.sleep(0.02)
    finally:
        timer.cancel()
        timer.join()

    # First the counts: the loop ran until the promoted replica answered, so every key is readable.
    native = backend.get_backend()
    twice, lost = [], []
    for number, started, seconds, outcome in calls:
        values = [int(value) if value is not None else 0 for value in _values(native, number)]
        if any(value > 1 for value in values):
            twice.append((number, values))
        if outcome is None and values != [1, 1, 1, 1]:
            lost.append((number, values))
    assert twice == [], "events counted twice: %r" % (twice,)
    assert lost == [], "calls that succeeded but whose counts are missing: %r" % (lost,)

    kill_time = killed_at[0]
    failures = [call for call in calls if call[3] is not None]
    assert failures, "killing a primary made no call fail: the test did not exercise the failover"
    for number, started, seconds, outcome in calls:
        assert seconds < TIMEOUT + 0.75, "call %d took %.2f s" % (number, seconds)
    for number, started, seconds, outcome in failures:
        assert started >= kill_time - 0.05, "call %d failed before the kill: %r" % (number, outcome)
        if isinstance(outcome, HostUnavailableError):
            assert "127.0.0.1:%d" % victim_port in str(outcome)
        else:
            # While the victim is marked failed and no replica is promoted yet, the
            # surviving nodes refuse every command (cluster-require-full-coverage).
            assert isinstance(outcome, redis.exceptions.ClusterDownError), repr(outcome)

    # The replica now serves the victim's slots, and the same backend reached it.
    with cluster.node_client(replica_port) as client:
        assert client.info("replication")["role"] == "master"
    assert backend.get_backend().get_node_from_key("_analytics:analy:f:count:e0").port == replica_port

    outage = failures[-1][1] + failures[-1][2] - kill_time
    report(request.config, "\nfailover: %d calls, %d failed (%d HostUnavailableError, %d CLUSTERDOWN); "
           "observed outage %.2f s (kill to the end of the last failed call); slowest call %.3f s; "
           "0 events counted twice" % (
               len(calls), len(failures),
               sum(isinstance(call[3], HostUnavailableError) for call in failures),
               sum(isinstance(call[3], redis.exceptions.ClusterDownError) for call in failures),
               outage, max(call[2] for call in calls)))
    backend.store.close()


def _owner_everywhere(cluster, slot):
    """The port every live node names as the owner of ``slot``, if they all agree and say the cluster is ok."""
    owners = set()
    for server in cluster.servers:
        if server.process is None:
            continue
        with cluster.node_client(server.port) as client:
            if client.execute_command("CLUSTER INFO").get("cluster_state") != "ok":
                return None
            for entry in client.execute_command("CLUSTER SLOTS"):
                if int(entry[0]) <= slot <= int(entry[1]):
                    owners.add(int(entry[2][1]))
    return owners.pop() if len(owners) == 1 else None


def test_the_first_call_after_the_promotion_succeeds(replicated_cluster):
    """After CLUSTERDOWN replies and a lost node, the slot map is reloaded until it names the new primary.

    While the killed primary's replica is not yet promoted, calls fail (the dead
    node, or CLUSTERDOWN from the others); once every live node names the
    promoted replica, the very next call must succeed: the backend reloads the
    map before it, instead of asking the dead node once more.
    """
    cluster = replicated_cluster
    backend = Redis({"cluster": [cluster.url(i) for i in range(len(cluster.servers))],
                     "options": {"timeout": TIMEOUT}})
    live = [server for server in cluster.servers if server.process is not None]
    # A key whose primary still has a live replica (the first test used up one pair).
    with cluster.node_client(live[0].port) as client:
        ranges = client.execute_command("CLUSTER SLOTS")
    entry = next(entry for entry in ranges if len(entry) > 3)
    victim_port, replica_port = int(entry[2][1]), int(entry[3][1])
    uid = next("g%d" % i for i in range(100000)
               if int(entry[0]) <= backend.get_backend().keyslot("_analytics:analy:g%d:count:m" % i) <= int(entry[1]))
    slot = backend.get_backend().keyslot("_analytics:analy:%s:count:m" % uid)
    assert backend.track_count(uid, "m") == 1
    other = next("h%d" % i for i in range(100000) if not int(entry[0]) <= backend.get_backend().keyslot(
        "_analytics:analy:h%d:count:m" % i) <= int(entry[1]))

    cluster.server_on(victim_port).stop()
    failures = []
    began = time.monotonic()
    while _owner_everywhere(cluster, slot) != replica_port:
        assert time.monotonic() - began < RECOVERY_LIMIT, "the replica was not promoted: %r" % failures[-3:]
        try:
            backend.get_counts([(uid, "m"), (other, "m")])
        except (HostUnavailableError, redis.exceptions.ClusterDownError) as exc:
            failures.append(exc)
        time.sleep(0.05)
    assert failures, "no call failed before the promotion: the test did not see the failover"
    # Every live node now names the promoted replica: the next call reaches it.
    assert backend.get_counts([(uid, "m"), (other, "m")]) == [1, 0]
    assert backend.track_count(uid, "m") == 2
    backend.store.close()
