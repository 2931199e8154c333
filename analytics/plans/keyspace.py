"""Walking what is stored: clearing a prefix, listing uids and metrics, exporting counts.

Every walk uses SCAN, a page at a time (never KEYS), and touches only keys of
the backend's prefix.  Keys found on a node are read or deleted on that node,
where they are, even if a host list would place them elsewhere (POLICY C1).
"""
import datetime
from typing import Any, Dict, List, Set, Tuple

from analytics import schema
from analytics.backends import arguments
from analytics.plans.steps import Batch, Broadcast, Keyspace, Plan, Scan

#: Keys per SCAN page when a call walks the whole prefix.
SCAN_BATCH = 1000


def clear_all(ks: Keyspace) -> Plan[None]:
    """Delete every key that starts with this backend's prefix and ``":"``, on every node.

    Keys are found with SCAN in bounded batches; no other key is touched.
    """
    pattern, cursor = schema.prefix_pattern(ks.prefix), "0"
    while True:
        page = yield Scan(pattern, cursor, SCAN_BATCH)
        if page.keys:
            yield Batch([("UNLINK", key) for key in page.keys], atomic=False, node=page.node)
        cursor = page.cursor
        if cursor == "0":
            return None


def ping(ks: Keyspace) -> Plan[List[str]]:
    """Send every Redis node a PING; returns the names of the nodes, which all answered.

    A node that does not answer (within its ``timeout``) raises
    :class:`~analytics.errors.HostUnavailableError` naming it.
    """
    answers = yield Broadcast(("PING",))
    return [name for name, _ in answers]


def _page_args(cursor: Any, count: Any, uid_prefix: Any) -> Tuple[str, int, str]:
    if not isinstance(cursor, str):
        raise TypeError("cursor must be a str ('0' to start), got %r" % (cursor,))
    count = arguments.integer(count, "count")
    if count < 1:
        raise ValueError("count must be at least 1, got %r" % (count,))
    if not isinstance(uid_prefix, str):
        raise TypeError("uid_prefix must be a str, got %r" % (uid_prefix,))
    if uid_prefix:
        arguments.name(uid_prefix, "uid_prefix")  # refuses what cannot be sent (lone surrogates)
    return cursor, count, uid_prefix


def scan_uids(ks: Keyspace, prefix: str = "", cursor: str = "0", count: int = 100) -> Plan[Tuple[str, List[str]]]:
    """One page of the stored uids that start with ``prefix``: ``(next cursor, uids)``.

    Start with cursor ``"0"`` and pass each returned cursor back until it is
    ``"0"`` again.  As with SCAN, a uid may come on more than one page, and a
    page may be empty before the walk is done.  ``count`` is a hint of how many
    keys to look at per page.
    """
    cursor, count, uid_prefix = _page_args(cursor, count, prefix)
    page = yield Scan(schema.uid_pattern(ks.prefix, uid_prefix), cursor, count)
    found: Dict[str, None] = {}
    for key in page.keys:
        parsed = schema.parse_key(ks.prefix, schema.key_text(key))
        if parsed is not None and parsed[1].startswith(uid_prefix):
            found[parsed[1]] = None
    return page.cursor, sorted(found)


def get_uid_metrics(ks: Keyspace, unique_identifier: Any) -> Plan[List[str]]:
    """The names of every metric stored for one uid, sorted (one walk over the prefix)."""
    uid = arguments.one_uid(unique_identifier)
    names: Set[str] = set()
    hashes: List[Tuple[Any, str]] = []
    cursor = "0"
    pattern = schema.uid_pattern(ks.prefix, uid)
    while True:
        page = yield Scan(pattern, cursor, SCAN_BATCH)
        for key in page.keys:
            parsed = schema.parse_key(ks.prefix, schema.key_text(key))
            if parsed is None or parsed[1] != uid:
                continue
            if parsed[0] == "counter":
                names.add(parsed[2])
            else:
                hashes.append((page.node, key))
        cursor = page.cursor
        if cursor == "0":
            break
    by_node: Dict[Any, List[str]] = {}
    for node, key in hashes:
        by_node.setdefault(node, []).append(key)
    for node, keys in by_node.items():
        for fields in (yield Batch([("HKEYS", key) for key in keys], atomic=False, node=node)):
            for field in fields:
                parsed_field = schema.parse_field(schema.key_text(field))
                if parsed_field is not None:
                    names.add(parsed_field[0])
    return sorted(names)


def scan_day_counts(ks: Keyspace, cursor: str = "0", count: int = 100, uid_prefix: str = ""
                    ) -> Plan[Tuple[str, List[Tuple[str, str, datetime.date, int]]]]:
    """One page of stored day counts, ``(next cursor, [(uid, metric, date, count), ...])``.

    Over a whole walk (cursor ``"0"`` to ``"0"``) every stored day count of the
    uids starting with ``uid_prefix`` comes exactly once.  Keys hold two-digit
    years: dates come back in 2000-2099.
    """
    cursor, count, uid_prefix = _page_args(cursor, count, uid_prefix)
    page = yield Scan(schema.month_hash_pattern(ks.prefix, uid_prefix), cursor, count)
    keys = []
    for key in page.keys:
        parsed = schema.parse_key(ks.prefix, schema.key_text(key))
        if parsed is not None and parsed[0] == "hash" and parsed[1].startswith(uid_prefix):
            keys.append((key, parsed[1]))
    rows: List[Tuple[str, str, datetime.date, int]] = []
    if keys:
        replies = yield Batch([("HGETALL", key) for key, _ in keys], atomic=False, node=page.node)
        for (_, uid), fields in zip(keys, replies):
            for field, value in sorted(_hash_items(fields)):
                parsed_field = schema.parse_field(schema.key_text(field))
                if parsed_field is not None:
                    rows.append((uid, parsed_field[0], parsed_field[1], int(value)))
    return page.cursor, rows


def _hash_items(reply: Any) -> List[Tuple[str, str]]:
    """An HGETALL reply's ``(field, value)`` pairs: a map in RESP3, a flat list in RESP2."""
    if isinstance(reply, dict):
        return list(reply.items())
    return list(zip(reply[::2], reply[1::2]))


def scan_counters(ks: Keyspace, cursor: str = "0", count: int = 100, uid_prefix: str = ""
                  ) -> Plan[Tuple[str, List[Tuple[str, str, int]]]]:
    """One page of all-time counters, ``(next cursor, [(uid, metric, count), ...])``.

    Over a whole walk every counter of the uids starting with ``uid_prefix``
    comes exactly once.
    """
    cursor, count, uid_prefix = _page_args(cursor, count, uid_prefix)
    page = yield Scan(schema.counter_pattern(ks.prefix, uid_prefix), cursor, count)
    keys = []
    for key in page.keys:
        parsed = schema.parse_key(ks.prefix, schema.key_text(key))
        if parsed is not None and parsed[0] == "counter" and parsed[1].startswith(uid_prefix):
            keys.append((key, parsed[1], parsed[2]))
    rows: List[Tuple[str, str, int]] = []
    if keys:
        replies = yield Batch([("GET", key) for key, _, _ in keys], atomic=False, node=page.node)
        rows = [(uid, metric, int(value)) for (_, uid, metric), value in zip(keys, replies) if value is not None]
    return page.cursor, rows
