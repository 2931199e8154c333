"""Moving stored counts out of a backend and into another, a page at a time.

:func:`export_pages` walks every stored day count and then every all-time
counter of a uid prefix (the backend's ``scan_day_counts`` and
``scan_counters``), so memory stays flat however much is stored.
:func:`import_pages` loads rows back: day rows through ``track_metrics``
(which rebuilds days, weeks, months and adds to the all-time counters), then
sets each counter row's all-time count to its exported value with
``set_counts`` (written, never read first).  Into an empty prefix that
reproduces every read, including counters tracked with ``track_count`` only.
Into a prefix holding data, day rows add to what is there and counter rows
still set the all-time counts to the exported values.
"""
import contextlib
import datetime
import gc
import itertools
import operator
from typing import Any, Callable, Iterable, Iterator, List, Optional, Tuple, Union

from analytics.formats import BadRow, StoredRow

PAGE = 1000
CHUNK = 10000


def export_pages(backend: Any, uid_prefix: str = "", start: Optional[datetime.date] = None,
                 end: Optional[datetime.date] = None, page: int = PAGE) -> Iterator[List[StoredRow]]:
    """Pages of stored rows: every day count (of ``start``..``end`` when given), then every all-time counter.

    Each day count and each counter comes exactly once; a page may be empty, and
    holds day rows only or counter rows only.
    """
    cursor = "0"
    while True:
        cursor, days = backend.scan_day_counts(cursor=cursor, count=page, uid_prefix=uid_prefix)
        if start is not None or end is not None:
            low, high = start or datetime.date.min, end or datetime.date.max
            days = [row for row in days if low <= row[2] <= high]
        yield days
        if cursor == "0":
            break
    while True:
        cursor, counters = backend.scan_counters(cursor=cursor, count=page, uid_prefix=uid_prefix)
        yield [(uid, metric, None, count) for uid, metric, count in counters]
        if cursor == "0":
            break


class ImportSummary:
    """What :func:`import_pages` did: rows applied (days, counters), bad rows skipped."""

    def __init__(self) -> None:
        self.day_rows = 0
        self.counter_rows = 0
        self.skipped: List[BadRow] = []

    @property
    def applied(self) -> int:
        """Rows applied so far."""
        return self.day_rows + self.counter_rows


class ImportStopped(ValueError):
    """A bad row stopped an import; every row before it was applied (``summary`` says how many)."""

    def __init__(self, bad: BadRow, summary: ImportSummary):
        super().__init__("%s; the %d rows before it were applied, none after" % (bad, summary.applied))
        self.bad = bad
        self.summary = summary


def import_pages(backend: Any, pages: Iterable[List[Union[StoredRow, BadRow]]], skip_bad: bool = False,
                 chunk_size: int = CHUNK) -> ImportSummary:
    """Apply rows as :func:`analytics.formats.read_stored_pages` yields them, in order.

    Each run of day rows is streamed into one ``backend.track_metrics`` call
    and each run of counter rows into one ``backend.set_counts`` call
    (``chunk_size`` rows a chunk; the backend packs the next chunk while Redis
    applies the last).  A :class:`~analytics.formats.BadRow` raises
    :class:`ImportStopped` after every row before it was applied, or with
    ``skip_bad`` is recorded in the summary and skipped.
    """
    with _rare_collections():
        return _import(backend, pages, skip_bad, chunk_size)


@contextlib.contextmanager
def _rare_collections() -> Iterator[None]:
    """Python's cycle collector made to run 100 times less often meanwhile, then as before.

    It runs each time 700 more containers are alive than before: an import
    makes millions of short-lived ones (its rows and their counters' names),
    none of them in a cycle, and spent 10-18% of its time collecting.
    """
    first, *others = gc.get_threshold()
    gc.set_threshold(first * 100, *others)
    try:
        yield
    finally:
        gc.set_threshold(first, *others)


def _import(backend: Any, pages: Iterable[List[Union[StoredRow, BadRow]]], skip_bad: bool,
            chunk_size: int) -> ImportSummary:
    summary = ImportSummary()
    pieces = _pieces(pages)
    piece: Optional[Tuple[str, List[Any]]] = next(pieces, None)
    while piece is not None:
        kind, rows = piece
        if kind == BAD:
            if not skip_bad:
                raise ImportStopped(rows[0], summary)
            summary.skipped += rows
            piece = next(pieces, None)
            continue
        ended: List[Tuple[str, List[Any]]] = []
        run = itertools.chain.from_iterable(_run(piece, pieces, ended))
        if kind == DAYS:
            # A day row is already the (uid, metric, date, count) event track_metrics takes.
            summary.day_rows += backend.track_metrics(run, chunk_size=chunk_size)
        else:
            summary.counter_rows += backend.set_counts(
                ((uid, metric, count) for uid, metric, _, count in run), chunk_size=chunk_size)
        piece = ended[0] if ended else None
    return summary


DAYS, COUNTERS, BAD = "days", "counters", "bad"
_dates: Callable[[Any], Any] = operator.itemgetter(2)


def _pieces(pages: Iterable[List[Union[StoredRow, BadRow]]]) -> Iterator[Tuple[str, List[Any]]]:
    """Each page cut where its rows change kind: ``(DAYS | COUNTERS | BAD, rows)``; a bad row is a piece alone."""
    for page in pages:
        try:
            dates = list(map(_dates, page))
        except TypeError:  # a BadRow is no tuple
            dates = None
        if dates is not None and None not in dates:
            yield DAYS, page  # nearly every page
        elif dates is not None and dates.count(None) == len(dates):
            yield COUNTERS, page
        else:
            yield from _cut(page)


def _cut(page: List[Union[StoredRow, BadRow]]) -> Iterator[Tuple[str, List[Any]]]:
    kind: Optional[str] = None
    rows: List[Any] = []
    for row in page:
        now = BAD if isinstance(row, BadRow) else DAYS if row[2] is not None else COUNTERS
        if rows and (now != kind or now == BAD):
            yield kind, rows  # type: ignore[misc]
            rows = []
        kind = now
        rows.append(row)
    if rows:
        yield kind, rows  # type: ignore[misc]


def _run(first: Tuple[str, List[Any]], pieces: Iterator[Tuple[str, List[Any]]],
         ended: List[Tuple[str, List[Any]]]) -> Iterator[List[Any]]:
    """The rows of ``first`` and of the pieces after it of its kind; the piece ending the run goes in ``ended``."""
    yield first[1]
    for piece in pieces:
        if piece[0] != first[0]:
            ended.append(piece)
            return
        yield piece[1]
