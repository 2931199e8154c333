"""What a plan yields, and what it gets back.

A plan is a generator: it yields a :class:`Batch` (commands to send at once),
a :class:`Scan` (one page of a key walk), a :class:`Broadcast` (one command
to every node), a :class:`Take` (the next items of the caller's input) or a
:class:`Pause`, receives the answer, may yield again,
and returns the call's result.  It never touches a socket; the stores route
its steps and the drivers carry them out.
"""
from typing import Any, Generator, List, Optional, Tuple, TypeVar

T = TypeVar("T")


class Batch:
    """Commands sent together: one pipeline per node, all in flight at once.

    * ``atomic`` - each node applies its part in MULTI/EXEC (one snapshot per node);
    * ``replies`` - ``False`` when the plan needs no replies (bulk loads): the
      answer is then ``None`` and error replies are still raised;
    * ``node`` - run every command on this node (a node a :class:`Scan` page
      came from), not where its key would be placed.

    The answer is the list of replies in command order; the first error reply
    is raised after the whole batch ran.
    """

    __slots__ = ("commands", "atomic", "replies", "node")

    def __init__(self, commands: List[Tuple[Any, ...]], atomic: bool = True, replies: bool = True,
                 node: Any = None):
        self.commands = commands
        self.atomic = atomic
        self.replies = replies
        self.node = node


class Scan:
    """One ``SCAN`` page of the keys matching ``pattern``, over every node in turn.

    ``cursor`` is ``"0"`` to start, else the cursor of the previous page.  The
    answer is a :class:`ScanPage`.
    """

    __slots__ = ("pattern", "cursor", "count")

    def __init__(self, pattern: str, cursor: str = "0", count: int = 1000):
        self.pattern = pattern
        self.cursor = cursor
        self.count = count


class ScanPage:
    """The keys of one page, the node they are on, and the cursor of the next page (``"0"``: done)."""

    __slots__ = ("cursor", "node", "keys")

    def __init__(self, cursor: str, node: Any, keys: List[Any]):
        self.cursor = cursor
        self.node = node
        self.keys = keys


class Broadcast:
    """One keyless command (e.g. ``("PING",)``) sent to every node, all in flight at once.

    The answer is ``[(node name, reply), ...]`` in the store's node order; a
    node that cannot be reached raises
    :class:`~analytics.errors.HostUnavailableError` naming it.
    """

    __slots__ = ("command",)

    def __init__(self, command: Tuple[Any, ...]):
        self.command = command


class Take:
    """The next ``size`` items of ``stream`` (an iterator, or an async iterator on the asyncio side).

    Reading the caller's input is the driver's job: an async generator of
    events can only be read by awaiting it.  The answer is a list, empty when
    the stream is exhausted.
    """

    __slots__ = ("stream", "size")

    def __init__(self, stream: Any, size: int):
        self.stream = stream
        self.size = size


class Pause:
    """A point in a long piece of planning where an asyncio driver lets other tasks run.

    Answered with ``None``, at once by the sync driver.  A bulk load's chunk
    takes tens of milliseconds to plan; without these the event loop would be
    held for all of it.
    """

    __slots__ = ()


PAUSE = Pause()

Step = Any  # Batch | Scan | Broadcast | Take | Pause
#: A plan returning ``T``.
Plan = Generator[Step, Any, T]


class Keyspace:
    """What every plan of one backend shares: the key prefix (later, the backend's options)."""

    __slots__ = ("prefix",)

    def __init__(self, prefix: str):
        self.prefix = prefix
