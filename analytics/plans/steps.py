"""What a plan yields, and what it gets back.

A plan is a generator: it yields a :class:`Batch` (commands to send at once),
a :class:`Scan` (one page of a key walk), a :class:`Broadcast` (one command
to every node), a :class:`Take` (the next items of the caller's input) or a
:class:`Pause`, receives the answer, may yield again,
and returns the call's result.  It never touches a socket; the stores route
its steps and the drivers carry them out.
"""
import datetime
from typing import Any, Dict, Generator, List, Optional, Tuple, TypeVar

T = TypeVar("T")


class Batch:
    """Commands sent together: one pipeline per node, all in flight at once.

    * ``atomic`` - each node applies its part in MULTI/EXEC (one snapshot per node);
    * ``replies`` - ``False`` when the plan needs no replies (bulk loads): the
      answer is then ``None`` and error replies are still raised;
    * ``node`` - run every command on this node (a node a :class:`Scan` page
      came from), not where its key would be placed;
    * ``places`` - one name per command, placing it where that name would be
      placed instead of where its key would (the HyperLogLogs of one
      (uid, metric) on a host list go where their common anchor goes, so that
      a multi-key ``PFCOUNT`` finds them on one host).

    The answer is the list of replies in command order; the first error reply
    is raised after the whole batch ran.
    """

    __slots__ = ("commands", "atomic", "replies", "node", "places")

    def __init__(self, commands: List[Tuple[Any, ...]], atomic: bool = True, replies: bool = True,
                 node: Any = None, places: Optional[List[str]] = None):
        self.commands = commands
        self.atomic = atomic
        self.replies = replies
        self.node = node
        self.places = places


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
    """What every plan of one backend shares: the key prefix and the backend's options.

    * ``hours`` - tracking a ``datetime`` also counts its hour;
    * ``years`` - ``get_metrics`` takes ``group_by="year"`` (0.6.x refused it, and
      a backend without options answers as 0.6.x did);
    * ``zone`` - the ``tzinfo`` days and hours are taken in (``None``: the date
      part of what is passed, as in 0.6.x);
    * ``retention`` - per kind (``hour``, ``day``, ``week``, ``month``,
      ``unique``), seconds a bucket is kept after it ends, or ``None``: forever.

    The options are checked by :func:`analytics.backends.arguments.keyspace`.
    """

    __slots__ = ("prefix", "hours", "years", "zone", "retention", "year_retention", "plain")

    def __init__(self, prefix: str, hours: bool = False, years: bool = False, zone: Optional[datetime.tzinfo] = None,
                 retention: Optional[Dict[str, Optional[int]]] = None):
        self.prefix = prefix
        self.hours = hours
        self.years = years
        self.zone = zone
        self.retention: Dict[str, Optional[int]] = dict(DEFAULT_RETENTION, **(retention or {}))
        week, month = self.retention["week"], self.retention["month"]
        #: A year hash holds weeks and months: it is kept as long as the longer of the two.
        self.year_retention = None if week is None or month is None else max(week, month)
        #: No option changes what the 0.6.x calls do: they take their fast paths.
        self.plain = not hours and zone is None and all(
            self.retention[kind] is None for kind in ("day", "week", "month"))


#: Seconds each kind of bucket is kept after it ends; ``None`` keeps it forever.
#: Hours are many: they go after 14 days unless the backend says otherwise.
DEFAULT_RETENTION: Dict[str, Optional[int]] = {
    "hour": 14 * 86400, "day": None, "week": None, "month": None, "unique": None,
}
