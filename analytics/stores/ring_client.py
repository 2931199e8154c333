"""The object ``get_backend()`` returns for a host list: a nydus-like client over the ring.

0.6.x handed applications a nydus cluster.  :class:`RingClient` behaves like one
for the ways applications used it, and answers every command as one server
holding all the keys would, or refuses it:

* a keyed command runs on its key's host (a bytes key is placed as its UTF-8
  text, an int or float as 0.6.x's ``%s`` text);
* a keyless command (``ping``, ``keys``, ``dbsize``...) runs on every host and
  returns the list of their replies;
* ``delete``, ``unlink``, ``exists`` and ``touch`` of several keys run on each
  key's host and their counts are added up; ``mget`` returns the values in the
  order of the keys asked for;
* any other command naming keys that may live on different hosts (``mset``,
  ``rename``, ``sinter``, ``rpoplpush``, a script with several keys...) raises
  :class:`CrossHostCommandError` instead of being answered from one host;
* :meth:`RingClient.map` takes all of these too, batched into one pipeline per
  host, their values known when the block ends.
"""
import contextlib
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import redis.exceptions

from analytics import schema
from analytics.errors import HostUnavailableError
from analytics.stores.sync import host_error

#: Commands without a key: nydus ran them on every host and returned the replies as a list.
BROADCAST_COMMANDS = frozenset(
    {
        "keys", "flushdb", "flushall", "dbsize", "ping", "info", "randomkey", "save",
        "bgsave", "lastsave", "time", "config_get", "config_set", "script_flush",
        "script_load", "echo",
    }
)
#: Multi-key commands whose replies add up across hosts: each returns how many of its keys it hit.
SUMMED_COMMANDS = frozenset({"delete", "unlink", "exists", "touch"})
#: Commands whose positional arguments are all keys (a first list argument included).
_ALL_KEYS = frozenset({"sdiff", "sinter", "sunion", "pfcount", "watch"})
#: Commands whose first argument is one key or a list of keys (the rest is a timeout).
_FIRST_KEYS = frozenset({"blpop", "brpop", "bzpopmin", "bzpopmax"})
#: Commands that always name several keys (or keys beyond the first argument).
_MULTI_KEY_COMMANDS = frozenset(
    {
        "mset", "msetnx", "rename", "renamenx", "copy", "rpoplpush", "brpoplpush", "lmove", "blmove",
        "lmpop", "blmpop", "zmpop", "bzmpop", "smove", "sdiffstore", "sinterstore", "sunionstore",
        "sintercard", "zdiff", "zdiffstore", "zinter", "zinterstore", "zintercard", "zunion", "zunionstore",
        "zrangestore", "pfmerge", "bitop", "lcs", "geosearchstore", "xread", "xreadgroup", "migrate",
    }
)
_SCRIPT_COMMANDS = frozenset({"eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"})


class CrossHostCommandError(redis.exceptions.DataError):
    """A command that names keys on several hosts, which no single host can answer correctly."""


def _flatten(first: Any, rest: Sequence[Any] = ()) -> List[Any]:
    """redis-py's ``keys, *args`` convention: the first argument may be one key or a list of them."""
    keys = [first] if isinstance(first, (str, bytes, bytearray, memoryview, int, float)) else list(first)
    return keys + list(rest)


class Deferred:
    """The reply of a command queued inside :meth:`RingClient.map`, known once the block ends."""

    __slots__ = ("_value", "_done")

    def __init__(self) -> None:
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


#: One command for one host: ``(host index, method name, args, kwargs)``.
Part = Tuple[int, str, tuple, dict]


class RingClient:
    """A nydus-like cluster over the hosts of a ring store.

    ``hosts`` maps host index to its ``redis.Redis`` client, as nydus' did.
    """

    def __init__(self, store: Any):
        self._store = store
        self.hosts = {index: node.client for index, node in enumerate(store.nodes)}

    def __len__(self) -> int:
        return len(self.hosts)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.hosts.values())

    def host_index(self, key: Any) -> int:
        """The index of the host that holds ``key`` (text, bytes as UTF-8, or a number as 0.6.x's text)."""
        if isinstance(key, (bytes, bytearray, memoryview)):
            # The ring hashes a key's UTF-8 bytes: raw bytes land where their text does.
            return self._store.ring.node_for(bytes(key))
        return self._store.route(key if isinstance(key, str) else schema.text(key))

    def get_conn(self, key: Any) -> Any:
        """The client of the host that holds ``key``."""
        return self.hosts[self.host_index(key)]

    def _on_host(self, index: int, call: Callable[[], Any]) -> Any:
        """Run ``call`` against host ``index``; a lost host raises the library's error naming it."""
        try:
            return call()
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            raise host_error(self._store.nodes[index], exc, applied=None) from exc

    def _plan(self, name: str, args: tuple, kwargs: dict) -> Tuple[List[Part], Callable[[List[Any]], Any]]:
        """The per-host commands that answer ``name(*args, **kwargs)``, and how to merge their replies.

        Raises :class:`CrossHostCommandError` for a command naming keys on several hosts.
        """
        if name in BROADCAST_COMMANDS:
            return [(index, name, args, kwargs) for index in self.hosts], list
        if name in SUMMED_COMMANDS or name == "mget":
            keys = _flatten(args[0], args[1:]) if name == "mget" and args else list(args)
            if not keys:  # the server's own "wrong number of arguments"
                return [(0, name, args, kwargs)], _only
            by_host: Dict[int, List[Any]] = {}
            for key in keys:
                by_host.setdefault(self.host_index(key), []).append(key)
            parts = [(index, name, tuple(host_keys), kwargs) for index, host_keys in by_host.items()]
            if name != "mget":
                return parts, _summed
            return parts, lambda replies: _in_key_order(keys, by_host, replies, self.host_index)
        if not args:
            raise TypeError("%s() needs a key to be placed on a host of the ring" % name)
        if len(self.hosts) > 1 and (name in _MULTI_KEY_COMMANDS or len(self._keys_of(name, args)) > 1):
            raise CrossHostCommandError(
                "%s() names several keys, which may live on different hosts of the ring, so no host can "
                "answer it as one server would; run it on one host's client (get_backend().get_conn(key)) "
                "for keys you know share it, or use single-key commands" % name
            )
        return [(self.host_index(self._keys_of(name, args)[0]), name, args, kwargs)], _only

    @staticmethod
    def _keys_of(name: str, args: tuple) -> List[Any]:
        """The keys a command names (the first argument, for commands not listed above)."""
        if name in _SCRIPT_COMMANDS:
            count = int(args[1]) if len(args) > 1 else 0
            # A script without keys was placed by its first argument, as nydus did.
            return list(args[2:2 + count]) if count else [args[0]]
        if name in _ALL_KEYS:
            return _flatten(args[0], args[1:])
        if name in _FIRST_KEYS:
            return _flatten(args[0])
        return [args[0]]

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)

        def command(*args: Any, **kwargs: Any) -> Any:
            parts, merge = self._plan(name, args, kwargs)
            return merge([self._on_host(index, lambda: getattr(self.hosts[index], method)(*part_args, **part_kwargs))
                          for index, method, part_args, part_kwargs in parts])

        command.__name__ = name
        return command

    @contextlib.contextmanager
    def map(self) -> Iterator["_Batcher"]:
        """Batch the commands issued in the block: one pipeline per host, sent when it ends."""
        batcher = _Batcher(self)
        yield batcher
        batcher._flush()


def _only(replies: List[Any]) -> Any:
    return replies[0]


def _summed(replies: List[Any]) -> Any:
    """The total of per-host counts (an error reply, inside ``map()``, stands for the whole)."""
    for reply in replies:
        if isinstance(reply, Exception):
            return reply
    return sum(replies)


def _in_key_order(keys: List[Any], by_host: Dict[int, List[Any]], replies: List[Any],
                  host_index: Callable[[Any], int]) -> Any:
    """``mget``'s values in the order of ``keys``, from one reply list per host (in ``by_host`` order)."""
    for reply in replies:
        if isinstance(reply, Exception):
            return reply
    remaining = {index: iter(values) for index, values in zip(by_host, replies)}
    return [next(remaining[host_index(key)]) for key in keys]


class _Batcher:
    """The connection object ``map()`` yields: every call queues and returns a :class:`Deferred`."""

    def __init__(self, client: RingClient):
        self._client = client
        #: Per host: ``(method, args, kwargs, slot)``, the slot saying where its reply goes.
        self._queued: Dict[int, List[Tuple[str, tuple, dict, Tuple["_Pending", int]]]] = {}

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)

        def queue(*args: Any, **kwargs: Any) -> Deferred:
            parts, merge = self._client._plan(name, args, kwargs)
            pending = _Pending(len(parts), merge)
            for position, (index, method, part_args, part_kwargs) in enumerate(parts):
                self._queued.setdefault(index, []).append((method, part_args, part_kwargs, (pending, position)))
            return pending.deferred

        queue.__name__ = name
        return queue

    def _flush(self) -> None:
        order = list(self._queued.items())
        pipelines = []
        for index, calls in order:
            pipe = self._client.hosts[index].pipeline(transaction=False)
            for method, args, kwargs, _ in calls:
                getattr(pipe, method)(*args, **kwargs)
            pipelines.append(pipe)
        # One pipeline per host; run them one after the other through redis-py so
        # that its reply callbacks shape each value as a plain client call would.
        # A lost host does not stop the others' pipelines: its error is raised
        # once every other host has run its commands, as in the backend's calls.
        failure: Optional[HostUnavailableError] = None
        for (index, calls), pipe in zip(order, pipelines):
            try:
                replies = self._client._on_host(index, lambda: pipe.execute(raise_on_error=False))
            except HostUnavailableError as exc:
                failure = failure or exc
                continue
            for (_, _, _, (pending, position)), reply in zip(calls, replies):
                pending.receive(position, reply)
        if failure is not None:
            raise failure


class _Pending:
    """A queued call's per-host replies, merged into its :class:`Deferred` once all have come."""

    __slots__ = ("deferred", "_replies", "_missing", "_merge")

    def __init__(self, parts: int, merge: Callable[[List[Any]], Any]):
        self.deferred = Deferred()
        self._replies: List[Any] = [None] * parts
        self._missing = parts
        self._merge = merge

    def receive(self, position: int, reply: Any) -> None:
        self._replies[position] = reply
        self._missing -= 1
        if self._missing == 0:
            self.deferred._resolve(self._merge(self._replies))
