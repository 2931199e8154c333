"""Sums of stored counts, gathered for one batch of reads.

A read of the API asks for totals ("the week of 2012-12-31", "2012-02-27 to
2012-03-02"); each total is the sum of hash fields and string keys that
:mod:`analytics.schema` names.  :class:`Reads` collects them, turns them into one
HMGET per hash and one GET per counter, and adds up the replies.
"""
from typing import Any, Dict, List, Sequence, Tuple

from analytics.stores.base import Command


class Reads:
    """Totals to fetch; ``new_total()`` opens one, ``field()``/``counter()`` add to it."""

    __slots__ = ("_fields", "_counters", "_size")

    def __init__(self) -> None:
        self._fields: Dict[str, List[Tuple[str, int]]] = {}
        self._counters: List[Tuple[str, int]] = []
        self._size = 0

    def new_total(self) -> int:
        self._size += 1
        return self._size - 1

    def field(self, total: int, key: str, field: str) -> None:
        self._fields.setdefault(key, []).append((field, total))

    def counter(self, total: int, key: str) -> None:
        self._counters.append((key, total))

    def commands(self) -> List[Command]:
        hmgets = [("HMGET", key, *[field for field, _ in wanted]) for key, wanted in self._fields.items()]
        return hmgets + [("GET", key) for key, _ in self._counters]

    def totals(self, replies: Sequence[Any]) -> List[int]:
        """The totals, from the replies to :meth:`commands` (in the same order)."""
        sums = [0] * self._size
        for wanted, values in zip(self._fields.values(), replies):
            for (_, total), value in zip(wanted, values):
                if value is not None:
                    sums[total] += int(value)
        for (_, total), value in zip(self._counters, replies[len(self._fields):]):
            if value is not None:
                sums[total] += int(value)
        return sums
