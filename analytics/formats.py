"""Rows of counts as CSV and JSON: the shapes the command line and the HTTP service share.

Two kinds of rows:

* a **series** row, ``(date, uid, metric, count)``: one bucket of a day, week or
  month series, the date being the day, the week's Monday or the first of the
  month (``"YYYY-MM-DD"``).  CSV files of series start with the header
  ``date,uid,metric,count``.
* a **stored** row, ``(uid, metric, date, count)``: what ``analytics export``
  writes and ``analytics import`` reads.  With a date it is one day's count;
  with no date (an empty CSV field, a JSON ``null``) it is the *absolute*
  all-time count of that uid and metric.  CSV files of stored rows start with
  the header ``uid,metric,date,count``, so a plain CSV of events is a valid
  import file too.
"""
import csv
import datetime
import itertools
import json
import operator
from typing import IO, Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

SERIES_HEADER = ("date", "uid", "metric", "count")
STORED_HEADER = ("uid", "metric", "date", "count")
INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
#: Rows an import reads and checks at a time.
PAGE = 100

SeriesRow = Tuple[str, str, str, int]
#: ``(uid, metric, day, count)``; ``day`` is ``None`` for an all-time counter.
StoredRow = Tuple[str, str, Optional[datetime.date], int]


def series_rows(uid: str, metric: str, counts: Mapping[str, int]) -> List[SeriesRow]:
    """A series read (``{"YYYY-MM-DD": count}``) as rows in date order."""
    return [(day, uid, metric, counts[day]) for day in sorted(counts)]


def write_series_csv(handle: IO[str], rows: Iterable[SeriesRow]) -> None:
    """Series rows as CSV with the ``date,uid,metric,count`` header."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(SERIES_HEADER)
    writer.writerows(rows)


def series_json(uid: str, metric: str, by: str, rows: Sequence[SeriesRow]) -> Dict[str, Any]:
    """One series as a JSON-ready object: ``{"uid", "metric", "by", "series": [{"date", "count"}]}``."""
    return {"uid": uid, "metric": metric, "by": by,
            "series": [{"date": day, "count": count} for day, _, _, count in rows]}


def sparkline(values: Sequence[int]) -> str:
    """A one-line chart of ``values``, one block character per value (the highest is full height)."""
    blocks = "▁▂▃▄▅▆▇█"
    top = max(values, default=0)
    if top <= 0:
        return blocks[0] * len(values)
    return "".join(blocks[max(0, value) * (len(blocks) - 1) // top] for value in values)


class StoredWriter:
    """Writes stored rows as CSV (with its header) or NDJSON, one page at a time."""

    def __init__(self, handle: IO[str], fmt: str = "csv"):
        if fmt not in ("csv", "ndjson"):
            raise ValueError("format must be 'csv' or 'ndjson', got %r" % (fmt,))
        self._handle = handle
        self._csv = csv.writer(handle, lineterminator="\n") if fmt == "csv" else None
        # Exports repeat a few hundred dates over millions of rows.
        self._dates: Dict[datetime.date, str] = {}
        if self._csv is not None:
            self._csv.writerow(STORED_HEADER)

    def _text(self, day: Optional[datetime.date]) -> str:
        if day is None:
            return ""
        text = self._dates.get(day)
        if text is None:
            text = self._dates[day] = day.isoformat()
        return text

    def write(self, rows: Iterable[StoredRow]) -> None:
        """Append ``rows``."""
        text = self._text
        if self._csv is not None:
            self._csv.writerows([(uid, metric, text(day), count) for uid, metric, day, count in rows])
        else:
            dumps = json.dumps
            self._handle.write("".join(
                dumps({"uid": uid, "metric": metric, "date": None if day is None else text(day), "count": count})
                + "\n" for uid, metric, day, count in rows))


class BadRow(ValueError):
    """A row of an import file that cannot be tracked; ``line`` is its line number (1-based)."""

    def __init__(self, line: int, message: str):
        super().__init__("line %d: %s" % (line, message))
        self.line = line
        self.reason = message


def _checked(line: int, uid: Any, metric: Any, day: Optional[datetime.date], count: Any
             ) -> Union[StoredRow, BadRow]:
    # The library's own rules (non-empty uid and metric, a signed 64-bit amount),
    # checked here so that a bad row is found before anything around it is sent.
    if not isinstance(uid, str) or not uid:
        return BadRow(line, "uid must be a non-empty text, got %r" % (uid,))
    if not isinstance(metric, str) or not metric:
        return BadRow(line, "metric must be a non-empty text, got %r" % (metric,))
    if isinstance(count, bool) or not isinstance(count, int) or not INT64_MIN <= count <= INT64_MAX:
        return BadRow(line, "count must be an integer that fits in 64 bits, got %r" % (count,))
    return (uid, metric, day, count)


def read_stored(lines: Iterable[str], fmt: Optional[str] = None) -> Iterator[Union[StoredRow, BadRow]]:
    """Each row of an export file or events CSV; a bad row comes as a :class:`BadRow` naming its line.

    ``fmt`` is ``"csv"``, ``"ndjson"`` or ``None`` (NDJSON when the first
    non-blank line starts with ``{``).  A CSV may start with the
    ``uid,metric,date,count`` header or go straight to the rows.
    """
    return itertools.chain.from_iterable(read_stored_pages(lines, fmt))


def read_stored_pages(lines: Iterable[str], fmt: Optional[str] = None, page: int = PAGE
                      ) -> Iterator[List[Union[StoredRow, BadRow]]]:
    """:func:`read_stored`'s rows, a list of about ``page`` of them at a time (a bulk import's fast path)."""
    stream = iter(lines)
    first = None
    for first in stream:
        if first.strip():
            break
    else:
        return
    if fmt is None:
        fmt = "ndjson" if first.lstrip().startswith("{") else "csv"
    if fmt not in ("csv", "ndjson"):
        raise ValueError("format must be 'csv' or 'ndjson', got %r" % (fmt,))

    def rejoined() -> Iterator[str]:
        yield first
        yield from stream

    if fmt == "ndjson":
        rows = _read_ndjson(rejoined())
        while True:
            piece = list(itertools.islice(rows, page))
            if not piece:
                return
            yield piece
    else:
        yield from _csv_pages(rejoined(), page)


def _csv_pages(lines: Iterable[str], page: int) -> Iterator[List[Union[StoredRow, BadRow]]]:
    reader = csv.reader(lines)
    known: Dict[str, datetime.date] = {}
    uids: Callable[[Any], Any] = operator.itemgetter(0)
    metrics: Callable[[Any], Any] = operator.itemgetter(1)
    counts: Callable[[Any], Any] = operator.itemgetter(3)
    while True:
        start = reader.line_num
        records = list(itertools.islice(reader, page))
        if not records:
            return
        # A file of millions of rows is read a page at a time in one comprehension,
        # checked in C; a page with anything else in it (the header, a date not
        # seen before, a bad row) is read again row by row, as it always was.
        try:
            fast: Optional[List[Union[StoredRow, BadRow]]] = [
                (uid, metric, known[date_text] if date_text else None, int(count_text))
                for uid, metric, date_text, count_text in records]
        except (ValueError, KeyError):
            fast = None
        if (fast is None or not all(map(uids, fast)) or not all(map(metrics, fast))
                or max(map(counts, fast)) > INT64_MAX or min(map(counts, fast)) < INT64_MIN):
            yield list(_csv_rows(records, start, known))
        else:
            yield fast


def _csv_rows(records: List[List[str]], start: int, known: Dict[str, datetime.date]
              ) -> Iterator[Union[StoredRow, BadRow]]:
    """The rows of CSV ``records`` read one by one, the first having started after line ``start``."""
    header = list(STORED_HEADER)
    line = start
    for fields in records:
        # A quoted field may hold line breaks: each moves the next record's line on.
        line += 1 + sum(field.count("\n") for field in fields)
        try:
            uid, metric, date_text, count_text = fields
        except ValueError:
            if fields:
                yield BadRow(line, "expected 4 fields (uid,metric,date,count), got %d" % len(fields))
            continue
        try:
            day = known[date_text]
        except KeyError:
            day = None
            if date_text:
                if line == 1 and fields == header:
                    continue
                day = _new_date(known, date_text)
                if day is None:
                    yield BadRow(line, "date must be YYYY-MM-DD or empty (an all-time counter), got %r" % date_text)
                    continue
        try:
            count = int(count_text)
        except ValueError:
            yield BadRow(line, "count must be an integer, got %r" % count_text)
            continue
        if uid and metric and INT64_MIN <= count <= INT64_MAX:
            yield (uid, metric, day, count)
        else:
            yield _checked(line, uid, metric, day, count)


def _new_date(known: Dict[str, datetime.date], text: str) -> Optional[datetime.date]:
    """Parse and remember a ``YYYY-MM-DD`` date; ``None`` if it is not one."""
    try:
        if len(text) != 10:
            raise ValueError(text)
        day = known[text] = datetime.date.fromisoformat(text)
    except ValueError:
        return None
    return day


def _read_ndjson(lines: Iterable[str]) -> Iterator[Union[StoredRow, BadRow]]:
    known: Dict[str, datetime.date] = {}
    for line, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            item = json.loads(text)
        except ValueError as exc:
            yield BadRow(line, "not valid JSON: %s" % exc)
            continue
        if not isinstance(item, dict) or set(item) != set(STORED_HEADER):
            yield BadRow(line, "expected an object with the keys uid, metric, date and count, got %.80s"
                         % text.strip())
            continue
        date_text = item["date"]
        day = None
        if date_text is not None:
            day = known.get(date_text) if isinstance(date_text, str) else None
            if day is None:
                day = _new_date(known, date_text) if isinstance(date_text, str) else None
                if day is None:
                    yield BadRow(line, "date must be YYYY-MM-DD or null (an all-time counter), got %r" % (date_text,))
                    continue
        yield _checked(line, item["uid"], item["metric"], day, item["count"])
