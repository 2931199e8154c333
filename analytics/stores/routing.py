"""How a batch of commands becomes one pipeline per node, and replies come back in order.

Pure: no sockets, no redis-py connections.  What happens on the wire is asked
for by yielding one of three I/O requests, which a driver carries out and
answers (:mod:`analytics.stores.sync` on redis-py's blocking connections,
:mod:`analytics.stores.aio` on ``redis.asyncio``'s):

* :class:`Send` - write each node its pipeline, all before reading any reply,
  and answer with each node's replies (a lost node raises
  :class:`~analytics.errors.HostUnavailableError` into the flow);
* :class:`Prepare`, :class:`Post` and :class:`Collect` - a ``Send`` in three
  steps, for batches whose replies can wait (bulk loads: see :func:`run_plan`);
* :class:`Refresh` - reload a cluster's slot map;
* :class:`ScanNode` - one ``SCAN`` page of one node;
* :class:`~analytics.plans.steps.Take` - the next items of the caller's input,
  and :class:`~analytics.plans.steps.Pause`, passed through from the plan unchanged.

A *flow* is a generator yielding those requests and returning a result:
:func:`run_plan` turns a backend plan (see :mod:`analytics.plans`) into one,
routing each of the plan's steps with the store's :class:`Topology`.
"""
import functools
from typing import Any, Callable, Dict, Generator, Hashable, List, Optional, Sequence, Tuple

import redis.exceptions

from analytics.errors import HostUnavailableError
from analytics.plans.steps import PAUSE, Batch, Broadcast, Pause, Scan, ScanPage, Take

#: ``(COMMAND, key, *args)``: every command a plan sends touches one key,
#: which :func:`command_key` finds (``EVAL script 1 key ...`` has it fourth).
Command = Tuple[Any, ...]

#: How many times one batch follows MOVED/ASK replies before it gives up and
#: raises the redirection (a slot moving again and again means a resharding storm).
MAX_REDIRECTS = 5


def command_key(command: Command) -> Any:
    """The key a command touches, which decides the node it runs on."""
    return command[3] if command[0] == "EVAL" else command[1]


class Node:
    """One Redis server: the name errors use, and the driver's handle on it.

    ``client`` is whatever the driver talks through: a ``redis.Redis`` (sync), a
    ``redis.asyncio.Redis``, or a ``redis.asyncio.cluster.ClusterNode``;
    ``gate``, the asyncio driver's bound on connections in use at once.
    """

    __slots__ = ("name", "client", "gate")

    def __init__(self, name: str, client: Any, gate: Any = None):
        self.name = name
        self.client = client
        self.gate = gate

    def __repr__(self) -> str:
        return "Node(%r)" % (self.name,)


class Send:
    """Write ``batches`` (``(node, commands)``), one pipeline each, then read every reply.

    With ``atomic`` each pipeline is wrapped in MULTI/EXEC.  The answer is each
    node's replies in order, error replies as exception objects in place.
    """

    __slots__ = ("batches", "atomic")

    def __init__(self, batches: Sequence[Tuple[Node, Sequence[Command]]], atomic: bool):
        self.batches = batches
        self.atomic = atomic


class Prepare:
    """Check out each node's connection and pack its pipeline as :class:`Send` would write it, writing nothing.

    The answer is a ticket for :class:`Post`.  Packing a bulk chunk takes as
    long as the server takes to apply the chunk before it: prepared first, it
    is written the moment that chunk's replies are in.  The driver owns the
    ticket and gives its connections back if its flow ends before using it.
    """

    __slots__ = ("batches",)

    def __init__(self, batches: Sequence[Tuple[Node, Sequence[Command]]]):
        self.batches = batches


class Post:
    """Write a :class:`Prepare` ticket's pipelines without reading a reply; the answer is the ticket again.

    The driver closes the connections of a written ticket whose flow ends
    before it is collected: their replies will never be read.
    """

    __slots__ = ("ticket",)

    def __init__(self, ticket: Any):
        self.ticket = ticket


class Collect:
    """Read every reply of a posted ticket; the answer is each node's error replies, in order.

    The other replies are not needed (a bulk load's increments), so a driver
    may count them without making a Python object of each.
    """

    __slots__ = ("ticket",)

    def __init__(self, ticket: Any):
        self.ticket = ticket


class Refresh:
    """Reload the cluster's slot map, asking ``failed`` (a node name) last."""

    __slots__ = ("failed", "applied")

    def __init__(self, failed: Optional[str] = None, applied: Optional[bool] = False):
        self.failed = failed
        self.applied = applied


class ScanNode:
    """``SCAN cursor MATCH pattern COUNT count`` on one node; answered with ``(cursor, keys)``."""

    __slots__ = ("node", "cursor", "pattern", "count")

    def __init__(self, node: Node, cursor: int, pattern: str, count: int):
        self.node, self.cursor, self.pattern, self.count = node, cursor, pattern, count


Request = Any  # Send | Refresh | ScanNode | Take | Pause
Flow = Generator[Request, Any, Any]


class Topology:
    """Where keys live: a pure view the flows consult (no I/O)."""

    #: Set when the slot map must be reloaded before the next batch is routed.
    stale = False
    #: Whether a node can run a batch's commands in MULTI/EXEC (Redis Cluster
    #: refuses transactions whose keys lie in different slots).
    transactions = True
    #: Whether the map of keys to nodes can change (and be reloaded with :class:`Refresh`).
    reloads = False
    #: A node that failed, while the map may still name it (clusters).
    suspect: Optional[str] = None
    #: The one node every key maps to, if there is only one (a single host:
    #: such a topology is never stale and never reloads).
    only: Optional[Node] = None

    def node_for(self, key: Any) -> Node:
        raise NotImplementedError

    def primaries(self) -> List[Node]:
        """Every node that holds data, in a stable order (scan cursors number them)."""
        raise NotImplementedError

    def node_at(self, host: str, port: int) -> Node:
        """The node at an address a MOVED/ASK reply names (clusters only)."""
        raise NotImplementedError


class FixedTopology(Topology):
    """A fixed list of nodes and a key -> node function (one host, or a 0.6.x ring).

    With ``cache_size`` the node of each of the last ``cache_size`` keys placed
    is remembered: placing a key hashes it, the same uids' keys come back call
    after call, and a hit costs no Python call at all (a bulk load places each
    of its commands).
    """

    def __init__(self, nodes: Sequence[Node], place: Callable[[Any], Node], cache_size: int = 0):
        self.nodes = list(nodes)
        self.only = self.nodes[0] if len(self.nodes) == 1 else None
        if self.only is None and cache_size:
            self.node_for = functools.lru_cache(maxsize=cache_size)(place)  # type: ignore[method-assign]
        else:
            self.node_for = place  # type: ignore[method-assign,assignment]

    def primaries(self) -> List[Node]:
        return list(self.nodes)


def group(commands: Sequence[Command], node_for: Callable[[Any], Node]) -> List[Tuple[Node, List[int]]]:
    """The positions of ``commands`` per node, nodes in order of first use."""
    by_node: Dict[Hashable, Tuple[Node, List[int]]] = {}
    for pos, command in enumerate(commands):
        # command_key(), inlined: this loop runs once per command of every call.
        node = node_for(command[3] if command[0] == "EVAL" else command[1])
        entry = by_node.get(node.name)
        if entry is None:
            entry = by_node[node.name] = (node, [])
        entry[1].append(pos)
    return list(by_node.values())


def group_places(places: Sequence[Any], node_for: Callable[[Any], Node]) -> List[Tuple[Node, List[int]]]:
    """The positions of commands per node, each placed by its name in ``places``."""
    by_node: Dict[Hashable, Tuple[Node, List[int]]] = {}
    for pos, place in enumerate(places):
        node = node_for(place)
        entry = by_node.get(node.name)
        if entry is None:
            entry = by_node[node.name] = (node, [])
        entry[1].append(pos)
    return list(by_node.values())


#: Commands of a bulk batch grouped between two pauses (where an asyncio driver lets other tasks run).
GROUP_PIECE = 4096


def group_commands(commands: Sequence[Command], node_for: Callable[[Any], Node]
                   ) -> Generator[Pause, None, List[Tuple[Node, List[Command]]]]:
    """``commands`` per node without their positions (for batches whose replies are not needed).

    A flow: a bulk batch has tens of thousands of commands, and placing them
    all at once would hold an event loop for tens of milliseconds.
    """
    by_node: Dict[Hashable, Tuple[Node, List[Command]]] = {}
    for start in range(0, len(commands), GROUP_PIECE):
        if start:
            yield PAUSE
        for command in commands[start:start + GROUP_PIECE]:
            node = node_for(command[3] if command[0] == "EVAL" else command[1])
            entry = by_node.get(node.name)
            if entry is None:
                entry = by_node[node.name] = (node, [])
            entry[1].append(command)
    return list(by_node.values())


def wrap(commands: Sequence[Command], atomic: bool) -> Sequence[Command]:
    """A node's pipeline as sent: in MULTI/EXEC when ``atomic``."""
    return [("MULTI",), *commands, ("EXEC",)] if atomic else commands


def unwrap(replies: List[Any], count: int, atomic: bool) -> List[Any]:
    """The ``count`` replies of a pipeline read back, MULTI/EXEC taken off.

    A transaction refused while queueing (EXECABORT) reports the command that
    was refused for each of its commands: none of them ran.
    """
    if not atomic:
        return replies
    executed = replies[-1]
    if isinstance(executed, Exception):
        refused = next((r for r in replies[1:-1] if isinstance(r, Exception)), executed)
        return [refused] * count
    return executed if type(executed) is list else list(executed)


def raise_errors(replies: Sequence[Any]) -> None:
    """Raise the first error reply, if any (after the whole batch ran)."""
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply


def execute(topology: Topology, commands: Sequence[Command], atomic: bool = True,
            node: Optional[Node] = None, places: Optional[Sequence[Any]] = None) -> Flow:
    """Run ``commands`` with one pipeline per node; return their replies in order.

    ``node`` pins every command to that node (keys found there by a scan);
    ``places`` places each command by a name of its own (see
    :class:`~analytics.plans.steps.Batch`).  On a
    cluster, commands answered with MOVED or ASK - refused, not applied - are
    sent again to the node the reply names, and only they; ``atomic`` is not
    honoured there (Redis Cluster refuses transactions across slots).  Error
    replies are raised, the first one, after every command ran.
    """
    if not commands:
        return []
    if topology.stale:
        yield Refresh()
    atomic = atomic and topology.transactions
    node = node or topology.only
    if node is not None and not topology.reloads:
        # The commonest call: one host, replies already in command order.
        replies = (yield Send([(node, commands)], atomic))[0]
        raise_errors(replies)
        return replies
    if node is not None:
        groups: Sequence[Tuple[Node, Sequence[int]]] = [(node, range(len(commands)))]
    elif places is not None:
        groups = group_places(places, topology.node_for)
    else:
        groups = group(commands, topology.node_for)
    if len(groups) == 1 and not topology.reloads:
        # One node that never redirects: its replies already are in command order.
        replies = (yield Send([(groups[0][0], commands)], atomic))[0]
        raise_errors(replies)
        return replies
    replies = [None] * len(commands)
    if not topology.reloads:
        # A host list never answers MOVED, ASK or CLUSTERDOWN: each node's
        # replies go straight to their places, with no redirect bookkeeping.
        results = yield Send([(node, [commands[pos] for pos in where]) for node, where in groups], atomic)
        for (_, where), node_replies in zip(groups, results):
            for pos, reply in zip(where, node_replies):
                replies[pos] = reply
        raise_errors(replies)
        return replies
    yield from _send(topology, commands, [(node, [(pos, False) for pos in where]) for node, where in groups],
                     atomic, replies)
    for _ in range(MAX_REDIRECTS):
        redirected = [(pos, reply) for pos, reply in enumerate(replies) if isinstance(reply, redis.exceptions.AskError)]
        if not redirected:
            break
        if any(isinstance(reply, redis.exceptions.MovedError) for _, reply in redirected):
            yield Refresh(applied=None)
        again: Dict[str, Tuple[Node, List[Tuple[int, bool]]]] = {}
        for pos, reply in redirected:
            target = topology.node_at(reply.host, reply.port)
            asking = not isinstance(reply, redis.exceptions.MovedError)
            again.setdefault(target.name, (target, []))[1].append((pos, asking))
        yield from _send(topology, commands, list(again.values()), False, replies)
    if any(isinstance(reply, redis.exceptions.ClusterDownError) for reply in replies):
        # A failover is under way: the next batch reloads the slot map first, and
        # again until it names live owners, instead of asking the dead node once more.
        topology.stale = True
    raise_errors(replies)
    return replies


def _send(topology: Topology, commands: Sequence[Command], plan: Sequence[Tuple[Node, List[Tuple[int, bool]]]],
          atomic: bool, replies: List[Any]) -> Flow:
    """Send each node its commands (``(position, asking)``) and put the replies in place."""
    batches = []
    for node, where in plan:
        wire: List[Command] = []
        for pos, asking in where:
            if asking:
                wire.append(("ASKING",))
            wire.append(commands[pos])
        batches.append((node, wire))
    try:
        results = yield Send(batches, atomic)
    except HostUnavailableError as exc:
        if not topology.reloads:
            raise
        # A lost cluster node: the next call must reach whoever owns its slots now.
        topology.suspect = exc.host
        try:
            yield Refresh(failed=exc.host)
        except HostUnavailableError:
            pass  # the topology is left stale: the next batch reloads the slot map first
        raise
    if topology.suspect is not None and any(node.name == topology.suspect for node, _ in batches):
        topology.suspect = None  # it answered: the map names a live node again
        topology.stale = False
    for (_, where), node_replies in zip(plan, results):
        answers = iter(node_replies)
        for pos, asking in where:
            if asking:
                next(answers)
            replies[pos] = next(answers)


def apply(topology: Topology, commands: Sequence[Command], places: Optional[Sequence[Any]] = None) -> Flow:
    """Run ``commands`` for their effect only, one pipeline per node, replies not put back in order.

    The first error reply is raised after every command ran.  Used by bulk
    loads, where putting a million replies back in order costs a third of the
    client's time for nothing.
    """
    yield from collect((yield from post(topology, commands, places)))


def post(topology: Topology, commands: Sequence[Command], places: Optional[Sequence[Any]] = None) -> Flow:
    """The first half of :func:`apply`: write ``commands``' pipelines and return the ticket to :func:`collect`."""
    ticket = yield from prepare(topology, commands, places)
    if ticket is not None:
        yield Post(ticket)
    return ticket


def prepare(topology: Topology, commands: Sequence[Command], places: Optional[Sequence[Any]] = None) -> Flow:
    """``commands``' pipelines packed and not written: the ticket to :class:`Post`.

    On a cluster the commands run to the end here (following MOVED/ASK needs
    their replies) and the ticket is ``None``, as it is for no commands.
    """
    if not commands:
        return None
    if topology.reloads:
        yield from execute(topology, commands, atomic=False, places=places)
        return None
    if topology.stale:
        yield Refresh()
    batches: Sequence[Tuple[Node, Sequence[Command]]]
    if topology.only is not None:
        batches = [(topology.only, commands)]
    elif places is None:
        batches = yield from group_commands(commands, topology.node_for)
    else:
        batches = [(node, [commands[pos] for pos in where]) for node, where in group_places(places, topology.node_for)]
    return (yield Prepare(batches))


def collect(ticket: Any) -> Flow:
    """The second half of :func:`apply`: read a ticket's replies and raise the first error reply."""
    if ticket is None:
        return None
    for errors in (yield Collect(ticket)):
        raise_errors(errors)
    return None


def encode_cursor(index: int, cursor: int) -> str:
    """A scan position across nodes as text: ``"0"`` is the start and the end of a walk."""
    return "0" if index == 0 and cursor == 0 else "%d-%d" % (index, cursor)


def decode_cursor(text: str) -> Tuple[int, int]:
    """The ``(node index, node cursor)`` of :func:`encode_cursor`'s text; ``ValueError`` if it is not one."""
    if text == "0":
        return 0, 0
    index, sep, cursor = text.partition("-")
    if not sep or not index.isdigit() or not cursor.isdigit():
        raise ValueError("cursor must be '0' or a cursor a previous page returned, got %r" % (text,))
    return int(index), int(cursor)


def scan(topology: Topology, step: Scan) -> Flow:
    """One page of keys matching ``step.pattern``, walking the primaries one after the other."""
    if topology.stale:
        yield Refresh()
    nodes = topology.primaries()
    index, cursor = decode_cursor(step.cursor)
    if index >= len(nodes):
        raise ValueError("cursor %r names a node this store does not have" % (step.cursor,))
    node = nodes[index]
    cursor, keys = yield ScanNode(node, cursor, step.pattern, step.count)
    cursor = int(cursor)
    if cursor == 0:
        index, cursor = index + 1, 0
        if index == len(nodes):
            index = 0
    return ScanPage(encode_cursor(index, cursor), node, list(keys))


def broadcast(topology: Topology, step: Broadcast) -> Flow:
    """``step.command`` on every primary, one pipeline each; ``[(node name, reply)]`` in node order."""
    if topology.stale:
        yield Refresh()
    nodes = topology.primaries()
    replies: List[Any] = [None] * len(nodes)
    yield from _send(topology, [step.command] * len(nodes), [(node, [(pos, False)]) for pos, node in enumerate(nodes)],
                     False, replies)
    raise_errors(replies)
    return [(node.name, reply) for node, reply in zip(nodes, replies)]


def run_plan(topology: Topology, plan: Generator[Any, Any, Any]) -> Flow:
    """A backend plan as one flow: each step it yields is routed here, its answer sent back.

    A batch whose replies the plan does not need (a bulk load's chunk) is
    posted, and its replies collected only when the plan next needs Redis, or
    ends: meanwhile the plan reads, checks and packs its next chunk while the
    servers work on this one, instead of each side waiting for the other.  A
    chunk's error reply or lost host is thus raised once the next chunk is
    packed, but still before that chunk is written; an invalid event or a
    failing input raises after the chunks before it are collected, every one
    applied.
    """
    ticket = None
    try:
        step = next(plan)
        while True:
            kind = type(step)
            if kind is Take or kind is Pause:
                # Reading the caller's input, and yielding, are the driver's.
                answer = yield step
            else:
                posting = kind is Batch and not step.replies
                # A batch whose replies wait is packed before the one posted last is collected.
                packed = (yield from prepare(topology, step.commands, step.places)) if posting else None
                if ticket is not None:
                    posted, ticket = ticket, None
                    yield from collect(posted)
                if posting:
                    if packed is not None:
                        ticket = yield Post(packed)
                    answer = None
                elif kind is Batch:
                    only = topology.only
                    if only is not None and step.node is None and step.commands:
                        # execute()'s commonest case, one host, without a generator
                        # of its own: a small call's cost is mostly such overhead.
                        answer = (yield Send([(only, step.commands)], step.atomic))[0]
                        raise_errors(answer)
                    else:
                        answer = yield from execute(topology, step.commands, step.atomic, step.node, step.places)
                elif kind is Scan:
                    answer = yield from scan(topology, step)
                elif kind is Broadcast:
                    answer = yield from broadcast(topology, step)
                else:
                    answer = yield step
            step = plan.send(answer)
    except StopIteration as done:
        if ticket is not None:
            yield from collect(ticket)
        return done.value
    except GeneratorExit:
        raise  # the driver abandons the flow, and closes the ticket's connections itself
    except BaseException:
        if ticket is not None:
            yield from collect(ticket)
        raise
