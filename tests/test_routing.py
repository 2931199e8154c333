"""The routing flows without a server: batches per node, replies in order, redirections, reloads.

A fake topology stands for a cluster's slot map; the test answers each I/O
request the flow makes, as a driver would.
"""
import pytest
import redis.exceptions

from analytics.errors import HostUnavailableError
from analytics.stores import routing
from analytics.plans.steps import Batch, Take
from analytics.stores.routing import Node, Refresh, Send


class Slots(routing.Topology):
    """Keys starting with "a" on node A, the rest on B; reloads as a cluster's map does."""

    transactions = False
    reloads = True

    def __init__(self):
        self.a, self.b = Node("A", None), Node("B", None)
        self.primaries_named = {"A", "B"}

    def node_for(self, key):
        return self.a if key.startswith("a") else self.b

    def primaries(self):
        return [self.a, self.b]

    def node_at(self, host, port):
        return self.b

    def reloaded(self):
        self.stale = self.suspect in self.primaries_named


def drive(flow, answer):
    """Run ``flow``, answering each request with ``answer(request)`` (an exception is thrown in)."""
    requests = []
    try:
        request = next(flow)
        while True:
            requests.append(request)
            try:
                reply = answer(request)
            except Exception as exc:
                request = flow.throw(exc)
            else:
                request = flow.send(reply)
    except StopIteration as done:
        return requests, done.value


def test_one_pipeline_per_node_and_replies_back_in_command_order():
    topology = Slots()
    commands = [("GET", "a1"), ("GET", "b1"), ("GET", "a2")]

    def answer(request):
        return [[cmd[1].upper() for cmd in wire] for _, wire in request.batches]

    requests, replies = drive(routing.execute(topology, commands), answer)
    assert [(node.name, wire) for node, wire in requests[0].batches] == [
        ("A", [("GET", "a1"), ("GET", "a2")]), ("B", [("GET", "b1")])]
    assert replies == ["A1", "B1", "A2"]
    assert requests[0].atomic is False  # no MULTI/EXEC across a cluster's slots


def test_moved_resends_only_the_refused_command_after_a_reload():
    topology = Slots()
    moved = redis.exceptions.MovedError("12 127.0.0.1:7001")
    answers = iter([[[moved, "x"]], None, [["y"]]])

    requests, replies = drive(routing.execute(topology, [("GET", "a1"), ("GET", "a2")]), lambda r: next(answers))
    assert isinstance(requests[1], Refresh)
    assert requests[2].batches == [(topology.b, [("GET", "a1")])]
    assert replies == ["y", "x"]


def test_clusterdown_makes_the_next_batch_reload_first():
    topology = Slots()
    down = redis.exceptions.ClusterDownError("The cluster is down")
    with pytest.raises(redis.exceptions.ClusterDownError):
        drive(routing.execute(topology, [("GET", "a1")]), lambda request: [[down]])
    assert topology.stale
    requests, _ = drive(routing.execute(topology, [("GET", "a1")]),
                        lambda request: topology.reloaded() if isinstance(request, Refresh) else [["ok"]])
    assert isinstance(requests[0], Refresh) and isinstance(requests[1], Send)


class StubClusterClient:
    """What ClusterTopology reads of a cluster client: the slot map and the primaries."""

    class Named:
        def __init__(self, name):
            self.name = name

    def __init__(self):
        self.owner = {"a1": "A", "b1": "B"}
        self.primaries = ["A", "B"]
        self.nodes_manager = self

    @property
    def slots_cache(self):
        return {key: [self.Named(name)] for key, name in self.owner.items()}

    def keyslot(self, key):
        return key

    def get_primaries(self):
        return [self.Named(name) for name in self.primaries]


def test_a_lost_node_keeps_the_map_reloading_until_it_no_longer_names_it():
    from analytics.stores.cluster import ClusterTopology

    client = StubClusterClient()
    topology = ClusterTopology(client, lambda cluster_node: Node(cluster_node.name, None))

    def lose_a(request):
        if isinstance(request, Refresh):
            return topology.reloaded()
        raise HostUnavailableError("A", OSError("gone"), applied=None)

    with pytest.raises(HostUnavailableError):
        drive(routing.execute(topology, [("GET", "a1")]), lose_a)
    # The reload right after the failure still named A (no promotion yet): stay stale.
    assert topology.suspect == "A" and topology.stale
    # A replica takes over A's slots; the first call afterwards reloads and reaches it.
    client.primaries, client.owner["a1"] = ["A2", "B"], "A2"
    requests, replies = drive(routing.execute(topology, [("GET", "a1")]),
                              lambda request: topology.reloaded() if isinstance(request, Refresh) else [["ok"]])
    assert isinstance(requests[0], Refresh)
    assert requests[1].batches[0][0].name == "A2"
    assert replies == ["ok"] and not topology.stale and topology.suspect is None


def test_a_bulk_chunk_is_read_back_only_once_the_next_one_is_ready():
    """A batch without replies is prepared, then posted; its replies are collected when the plan next needs Redis.

    A following batch without replies is packed before the one before it is
    collected, and written only after: the server applies one chunk while the
    client packs the next, and an error reply still stops the next chunk.
    """
    node = Node("A", None)
    topology = routing.FixedTopology([node], lambda key: node)
    first, second = [("INCRBY", "k1", 1)], [("INCRBY", "k2", 2)]

    def plan():
        yield Batch(first, atomic=False, replies=False)
        yield Take(iter(()), 10)
        yield Batch(second, atomic=False, replies=False)
        return "done"

    def answer(request):
        if isinstance(request, routing.Prepare):
            return ("ticket", request.batches[0][1])
        if isinstance(request, routing.Post):
            return request.ticket
        if isinstance(request, routing.Collect):
            return [[]]
        return []

    requests, result = drive(routing.run_plan(topology, plan()), answer)
    assert result == "done"
    assert [type(request).__name__ for request in requests] == [
        "Prepare", "Post", "Take", "Prepare", "Collect", "Post", "Collect"]
    assert requests[0].batches == [(node, first)] and requests[3].batches == [(node, second)]
    assert requests[1].ticket == requests[4].ticket == ("ticket", first)
    assert requests[5].ticket == requests[6].ticket == ("ticket", second)


def test_an_error_reply_of_a_posted_chunk_is_raised_before_the_next_chunk_is_posted():
    only = Node("A", None)
    topology = routing.FixedTopology([only], lambda key: only)

    def plan():
        yield Batch([("INCRBY", "k1", 1)], atomic=False, replies=False)
        yield Batch([("INCRBY", "k2", 1)], atomic=False, replies=False)
        return "not reached"

    def answer(request):
        if isinstance(request, routing.Collect):
            return [[redis.exceptions.ResponseError("value is not an integer")]]
        return "ticket"

    requests = []
    with pytest.raises(redis.exceptions.ResponseError, match="not an integer"):
        drive(routing.run_plan(topology, plan()), lambda request: requests.append(request) or answer(request))
    # The second chunk was packed, never written.
    assert [type(request).__name__ for request in requests] == ["Prepare", "Post", "Prepare", "Collect"]


def test_a_plan_that_fails_collects_its_posted_chunk_first():
    only = Node("A", None)
    topology = routing.FixedTopology([only], lambda key: only)

    def plan():
        yield Batch([("INCRBY", "k1", 1)], atomic=False, replies=False)
        raise ValueError("events[10]: bad")

    requests = []
    with pytest.raises(ValueError, match=r"events\[10\]"):
        drive(routing.run_plan(topology, plan()),
              lambda request: requests.append(request) or ([[]] if isinstance(request, routing.Collect) else "t"))
    assert [type(request).__name__ for request in requests] == ["Prepare", "Post", "Collect"]
