"""Import files read a page at a time: the fast path and the row-by-row one give the same rows and line numbers."""
import datetime
import gc
import io
import itertools

import pytest

from analytics import transfer
from analytics.formats import BadRow, read_stored, read_stored_pages

D1, D2 = datetime.date(2026, 3, 1), datetime.date(2026, 3, 2)

CSV = (
    "uid,metric,date,count\n"      # 1: the header
    "u1,views,2026-03-01,3\n"      # 2
    "u2,views,2026-03-01,4\n"      # 3
    "\n"                           # 4: blank
    "\"u\n3\",views,2026-03-02,5\n"  # 5-6: a uid holding a line break
    "u4,views,2026-03-02,x\n"      # 7: bad count
    "u5,views,2026-03-02,6\n"      # 8
    ",views,2026-03-02,1\n"        # 9: empty uid
    "u6,views,,12\n"               # 10: a counter
    "u7,views,2026-03-02,9223372036854775808\n"  # 11: past 64 bits
    "u8,views,2026-3-2,1\n"        # 12: bad date
    "u9,views,2026-03-02,7\n"      # 13
)


def expected_rows():
    return [("u1", "views", D1, 3), ("u2", "views", D1, 4), ("u\n3", "views", D2, 5), (7, "count"),
            ("u5", "views", D2, 6), (9, "uid"), ("u6", "views", None, 12), (11, "count"), (12, "date"),
            ("u9", "views", D2, 7)]


def shape(row):
    """A row as it is, a bad row as (its line, the first word of its reason)."""
    return (row.line, row.reason.split()[0]) if isinstance(row, BadRow) else row


@pytest.mark.parametrize("page", [1, 2, 3, 5, 1000])
def test_every_page_size_gives_the_same_rows_and_lines(page):
    pages = list(read_stored_pages(io.StringIO(CSV), page=page))
    assert all(len(rows) <= page for rows in pages)
    assert [shape(row) for row in itertools.chain.from_iterable(pages)] == expected_rows()


def test_clean_pages_after_the_first_take_the_fast_path_and_match():
    lines = ["uid,metric,date,count\n"] + ["u%d,m%d,2026-03-0%d,%d\n" % (i, i % 3, 1 + i % 2, i) for i in range(2500)]
    rows = list(read_stored(lines))
    assert len(rows) == 2500
    assert rows[0] == ("u0", "m0", D1, 0) and rows[1] == ("u1", "m1", D2, 1) and rows[2499] == ("u2499", "m0", D2, 2499)
    late_bad = lines + ["u,m,2026-03-01,-9223372036854775809\n"]
    last = list(read_stored(late_bad))[-1]
    assert isinstance(last, BadRow) and last.line == 2502


class Recorder:
    """A backend that keeps what import_pages hands it (the calls, in order)."""

    def __init__(self):
        self.calls = []

    def track_metrics(self, events, chunk_size):
        self.calls.append(("track_metrics", list(events)))
        return len(self.calls[-1][1])

    def set_counts(self, counts, chunk_size):
        self.calls.append(("set_counts", list(counts)))
        return len(self.calls[-1][1])


def test_runs_cross_pages_and_a_bad_row_stops_after_every_row_before_it():
    text = "a,m,2026-03-01,1\nb,m,2026-03-01,2\nc,m,2026-03-02,3\nc,m,,30\nd,m,,40\ne,m,2026-03-01,5\nf,m,zz,1\ng,m,2026-03-01,6\n"
    backend = Recorder()
    with pytest.raises(transfer.ImportStopped) as stopped:
        transfer.import_pages(backend, read_stored_pages(io.StringIO(text), page=2))
    assert stopped.value.bad.line == 7
    assert backend.calls == [("track_metrics", [("a", "m", D1, 1), ("b", "m", D1, 2), ("c", "m", D2, 3)]),
                             ("set_counts", [("c", "m", 30), ("d", "m", 40)]),
                             ("track_metrics", [("e", "m", D1, 5)])]
    assert stopped.value.summary.applied == 6

    skipping = Recorder()
    summary = transfer.import_pages(skipping, read_stored_pages(io.StringIO(text), page=2), skip_bad=True)
    assert [bad.line for bad in summary.skipped] == [7]
    assert skipping.calls[-1] == ("track_metrics", [("g", "m", D1, 6)])
    assert (summary.day_rows, summary.counter_rows) == (5, 2)


def test_the_collector_runs_rarely_during_an_import_and_as_before_after_it():
    before = gc.get_threshold()
    seen = []

    class Watching(Recorder):
        def track_metrics(self, events, chunk_size):
            seen.append(gc.get_threshold())
            return super().track_metrics(events, chunk_size)

    transfer.import_pages(Watching(), read_stored_pages(io.StringIO("a,m,2026-03-01,1\n")))
    assert seen == [(before[0] * 100,) + before[1:]]
    assert gc.get_threshold() == before
    with pytest.raises(transfer.ImportStopped):
        transfer.import_pages(Watching(), read_stored_pages(io.StringIO("a,m,2026-03-01,1\nb,m,x,1\n")))
    assert gc.get_threshold() == before
