"""A host list placed by the 0.6.x-compatible ring, and the object ``get_backend()`` returns.

0.6.x handed applications a nydus cluster.  :class:`RingClient` behaves like one
for the ways applications used it: keyed commands go to the key's host, keyless
ones run everywhere and return a list, and :meth:`RingClient.map` batches.
"""
import contextlib
import functools
from typing import Any, Callable, Dict, Iterator, List, Sequence

import redis.exceptions

from analytics.errors import HostUnavailableError
from analytics.ring import HashRing
from analytics.stores.routing import FixedTopology, Node
from analytics.stores.sync import SyncStore, host_error

#: Keys whose host is remembered (about 100 bytes each).
ROUTE_CACHE_SIZE = 65536

#: Commands without a key: nydus ran them on every host and returned the replies as a list.
BROADCAST_COMMANDS = frozenset(
    {
        "keys", "flushdb", "flushall", "dbsize", "ping", "info", "randomkey", "save",
        "bgsave", "lastsave", "time", "config_get", "config_set", "script_flush",
        "script_load", "echo",
    }
)


class RingStore(SyncStore):
    """Keys spread over several hosts exactly as py-analytics 0.6.x spread them."""

    def __init__(self, nodes: Sequence[Node], identifiers: Sequence[str]):
        self.nodes = list(nodes)
        self.ring = HashRing(identifiers)
        # Placing a key hashes it; the same uids' keys come back call after call.
        self.route: Callable[[str], int] = functools.lru_cache(maxsize=ROUTE_CACHE_SIZE)(self.ring.node_for)
        super().__init__(FixedTopology(self.nodes, self.route))
        self._client = RingClient(self)

    def native(self) -> "RingClient":
        return self._client


class Deferred:
    """The reply of a command queued inside :meth:`RingClient.map`, known once the block ends."""

    __slots__ = ("_value", "_done")

    def __init__(self):
        self._done = False
        self._value: Any = None

    @property
    def value(self) -> Any:
        if not self._done:
            raise RuntimeError("the reply is known only after the map() block has ended")
        return self._value

    def _resolve(self, value: Any) -> None:
        self._value, self._done = value, True

    def __eq__(self, other: Any) -> bool:
        return self.value == (other.value if isinstance(other, Deferred) else other)

    def __hash__(self) -> int:
        return hash(self.value)

    def __int__(self) -> int:
        return int(self.value)

    def __repr__(self) -> str:
        return "<Deferred %r>" % (self._value,) if self._done else "<Deferred pending>"


class _Batcher:
    """The connection object ``map()`` yields: every call queues and returns a :class:`Deferred`."""

    def __init__(self, client: "RingClient"):
        self._client = client
        self._queued: Dict[int, List[tuple]] = {}

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)

        def queue(key, *args, **kwargs):
            deferred = Deferred()
            index = self._client.host_index(key)
            self._queued.setdefault(index, []).append((name, (key,) + args, kwargs, deferred))
            return deferred

        return queue

    def _flush(self) -> None:
        order = list(self._queued.items())
        pipelines = []
        for index, calls in order:
            pipe = self._client.hosts[index].pipeline(transaction=False)
            for name, args, kwargs, _ in calls:
                getattr(pipe, name)(*args, **kwargs)
            pipelines.append(pipe)
        # One pipeline per host; run them one after the other through redis-py so
        # that its reply callbacks shape each value as a plain client call would.
        # A lost host does not stop the others' pipelines: its error is raised
        # once every other host has run its commands, as in the backend's calls.
        failure = None
        for (index, calls), pipe in zip(order, pipelines):
            try:
                replies = self._client._on_host(index, lambda: pipe.execute(raise_on_error=False))
            except HostUnavailableError as exc:
                failure = failure or exc
                continue
            for (_, _, _, deferred), reply in zip(calls, replies):
                deferred._resolve(reply)
        if failure is not None:
            raise failure


class RingClient:
    """A nydus-like cluster over the hosts of a :class:`RingStore`.

    ``hosts`` maps host index to its ``redis.Redis`` client, as nydus' did.
    """

    def __init__(self, store: RingStore):
        self._store = store
        self.hosts = {index: node.client for index, node in enumerate(store.nodes)}

    def __len__(self) -> int:
        return len(self.hosts)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.hosts.values())

    def host_index(self, key: Any) -> int:
        return self._store.route(key if isinstance(key, str) else str(key))

    def get_conn(self, key: Any) -> Any:
        """The client of the host that holds ``key``."""
        return self.hosts[self.host_index(key)]

    def _on_host(self, index: int, call: Callable[[], Any]) -> Any:
        """Run ``call`` against host ``index``; a lost host raises the library's error naming it."""
        try:
            return call()
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            raise host_error(self._store.nodes[index], exc, applied=None) from exc

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in BROADCAST_COMMANDS:
            def everywhere(*args, **kwargs):
                return [self._on_host(index, lambda: getattr(client, name)(*args, **kwargs))
                        for index, client in self.hosts.items()]

            return everywhere

        def keyed(key, *args, **kwargs):
            index = self.host_index(key)
            return self._on_host(index, lambda: getattr(self.hosts[index], name)(key, *args, **kwargs))

        return keyed

    @contextlib.contextmanager
    def map(self) -> Iterator[_Batcher]:
        """Batch the commands issued in the block: one pipeline per host, sent when it ends."""
        batcher = _Batcher(self)
        yield batcher
        batcher._flush()
