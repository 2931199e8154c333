"""Moving stored counts out of a backend and into another, a page at a time.

:func:`export_pages` walks every stored day count and then every all-time
counter of a uid prefix (the backend's ``scan_day_counts`` and
``scan_counters``), so memory stays flat however much is stored.
:func:`import_rows` loads rows back: day rows through ``track_metrics``
(which rebuilds days, weeks, months and adds to the all-time counters), then
sets each counter row's all-time count to its exported value with
``set_counts`` (written, never read first).  Into an empty prefix that
reproduces every read, including counters tracked with ``track_count`` only.
Into a prefix holding data, day rows add to what is there and counter rows
still set the all-time counts to the exported values.
"""
import datetime
from typing import Any, Iterable, Iterator, List, Optional, Union

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
    """What :func:`import_rows` did: rows applied (days, counters), bad rows skipped."""

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


def import_rows(backend: Any, rows: Iterable[Union[StoredRow, BadRow]], skip_bad: bool = False,
                chunk_size: int = CHUNK) -> ImportSummary:
    """Apply rows as :func:`analytics.formats.read_stored` yields them, in order.

    Each run of day rows is streamed into one ``backend.track_metrics`` call
    and each run of counter rows into one ``backend.set_counts`` call
    (``chunk_size`` rows a chunk; the backend packs the next chunk while Redis
    applies the last).  A :class:`~analytics.formats.BadRow` raises
    :class:`ImportStopped` after every row before it was applied, or with
    ``skip_bad`` is recorded in the summary and skipped.
    """
    summary = ImportSummary()
    stream = iter(rows)
    row: Optional[Union[StoredRow, BadRow]] = next(stream, None)
    while row is not None:
        if isinstance(row, BadRow):
            if not skip_bad:
                raise ImportStopped(row, summary)
            summary.skipped.append(row)
            row = next(stream, None)
            continue
        ended: List[Union[StoredRow, BadRow]] = []
        if row[2] is not None:
            # A day row is already the (uid, metric, date, count) event track_metrics takes.
            summary.day_rows += backend.track_metrics(_run(row, stream, True, ended), chunk_size=chunk_size)
        else:
            summary.counter_rows += backend.set_counts(
                ((uid, metric, count) for uid, metric, _, count in _run(row, stream, False, ended)),
                chunk_size=chunk_size)
        row = ended[0] if ended else None
    return summary


def _run(first: StoredRow, stream: Iterator[Union[StoredRow, BadRow]], days: bool,
         ended: List[Union[StoredRow, BadRow]]) -> Iterator[StoredRow]:
    """``first`` and the rows after it of its kind (day or counter rows); the row ending the run goes in ``ended``."""
    yield first
    for row in stream:
        if type(row) is tuple and (row[2] is not None) is days:
            yield row
        else:
            ended.append(row)
            return
