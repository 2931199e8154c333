"""Every Redis key and hash-field name the library writes, in one place.

py-analytics 0.6.x's layout is kept byte for byte (POLICY K1, K2, K4); the opt-in
kinds (hours, unique counts) add keys of their own:

===========================================  ======  ===========================================
key                                          type    fields
===========================================  ======  ===========================================
``P:user:U:analy:yy-mm``                     hash    ``M:yy-mm-dd`` day counts of that month
``P:user:U:analy:yy``                        hash    ``M:yy-mm-dd`` (a Monday) week counts and
                                                     ``M:yy-mm`` month counts of that year
                                                     (a year's count is the sum of its months)
``P:analy:U:count:M``                        string  all-time total
``P:hour:U:YYYY-MM-DD``                      hash    ``M:HH:00+hh:mm`` hour counts of that local
                                                     day (``hours=True``; the offset tells the
                                                     two 02:00 of a 25-hour day apart)
``P:uniq:{n:U:M}:d:YYYY-MM-DD``              HLL     distinct members of that day
``P:uniq:{n:U:M}:w:YYYY-MM-DD``              HLL     ... of the week of that Monday
``P:uniq:{n:U:M}:m:YYYY-MM``                 HLL     ... of that month
``P:uniq:{n:U:M}:h:YYYY-MM-DDTHH:00+hh:mm``  HLL     ... of that local hour (``hours=True``)
===========================================  ======  ===========================================

The first three rows are 0.6.x's.  Their years have two digits, so 1912 and 2012
share names.  A week's field lives in the hash of the year its days fall in: a
tracked event puts its week into the hash of the event's own year, not of its
Monday's.

The other rows are new, in namespaces (``hour``, ``uniq``) that 0.6.x never
wrote, with four-digit years.  ``n`` is the length of the uid ``U``, so that the
pair is read back unambiguously although uids and metrics may hold colons; the
braces are a Redis Cluster hash tag: every HyperLogLog of one (uid, metric) lies
in one slot, so a union over a range is one ``PFCOUNT`` on one node.  On a host
list they are placed by :func:`unique_anchor` for the same reason.
"""
import datetime
import functools
import re
from typing import Any, List, Optional, Tuple

Date = datetime.date


def text(value: Any) -> str:
    """Format a uid or metric the way 0.6.x's ``%s`` did on Python 2 (POLICY K4).

    * bytes are UTF-8 text (Python 2's ``str``); invalid UTF-8 raises ``UnicodeDecodeError``;
    * an ``int``, also of a subclass such as ``IntEnum``, is its integer's text
      (``str()`` of an ``IntEnum`` member reads ``E.A`` before Python 3.11 and ``3``
      from 3.11 on; the key must not depend on the Python version);
    * a ``float`` is Python 2's ``str(float)``: 12 significant digits (``%.12g``),
      plus ``.0`` when that reads as a whole number, so ``2 ** 0.5`` is
      ``1.41421356237`` and ``1.0`` is ``1.0``, where Python 3 gives
      ``1.4142135623730951`` and ``1.0``.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8")
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        formatted = "%.12g" % float(value)
        # Python 2 added ".0" only where the digits alone would read as an int ("1", "-0", "123456789012").
        return formatted + ".0" if formatted.lstrip("-").isdigit() else formatted
    return str(value)


def yy(day: Date) -> str:
    return "%02d" % (day.year % 100)


def yy_mm(day: Date) -> str:
    return "%02d-%02d" % (day.year % 100, day.month)


def yy_mm_dd(day: Date) -> str:
    return "%02d-%02d-%02d" % (day.year % 100, day.month, day.day)


@functools.lru_cache(maxsize=4096)
def tracking_parts(day: Date) -> Tuple[str, str, str, str]:
    """``(yy-mm-dd, yy-mm-dd of its Monday, yy-mm, yy)``: the date texts tracking ``day`` writes.

    Cached: events cluster on a few recent days, and formatting them is a large
    part of a tracked event's cost in Python.
    """
    monday = day - datetime.timedelta(days=day.weekday())
    return yy_mm_dd(day), yy_mm_dd(monday), yy_mm(day), yy(day)


def user_hash(prefix: str, uid: str, period: str) -> str:
    """A uid's hash for ``period``: ``yy-mm`` (its day counts) or ``yy`` (week and month counts)."""
    return f"{prefix}:user:{uid}:analy:{period}"


def month_hash(prefix: str, uid: str, day: Date) -> str:
    """The hash holding the day counts of ``day``'s month."""
    return user_hash(prefix, uid, yy_mm(day))


def year_period(year: int) -> str:
    """``yy`` of a year given as a number (a week's days may fall in two years)."""
    return "%02d" % (year % 100)


def year_hash(prefix: str, uid: str, year: int) -> str:
    """The hash holding the week and month counts of ``year``."""
    return user_hash(prefix, uid, year_period(year))


def counter_key(prefix: str, uid: str, metric: str) -> str:
    """The string key holding the all-time total of ``metric`` for ``uid``."""
    return f"{prefix}:analy:{uid}:count:{metric}"


def field(metric: str, date_text: str) -> str:
    """A hash field: the metric, then the bucket's date text (``yy-mm-dd`` or ``yy-mm``)."""
    return metric + ":" + date_text


def fields(metric: str, date_texts: List[str]) -> List[str]:
    """:func:`field` for many dates of one metric (readers ask for hundreds at once)."""
    return [metric + ":" + text for text in date_texts]


def day_field(metric: str, day: Date) -> str:
    return field(metric, yy_mm_dd(day))


def week_field(metric: str, monday: Date) -> str:
    return field(metric, yy_mm_dd(monday))


def month_field(metric: str, first_of_month: Date) -> str:
    return field(metric, yy_mm(first_of_month))


def hour_hash(prefix: str, uid: str, day_text: str) -> str:
    """A uid's hash of the hour counts of one local day (``day_text`` is ``YYYY-MM-DD``)."""
    return f"{prefix}:hour:{uid}:{day_text}"


def hour_parts(label: str) -> Tuple[str, str]:
    """``(YYYY-MM-DD, HH:00+hh:mm)`` of an hour label: its hash's day and its field's time."""
    return label[:10], label[11:]


def unique_anchor(prefix: str, uid: str, metric: str) -> str:
    """The name that places every HyperLogLog of (uid, metric): their common head, hash tag included."""
    return f"{prefix}:uniq:{{{len(uid)}:{uid}:{metric}}}"


def unique_key(anchor: str, kind: str, bucket_text: str) -> str:
    """A HyperLogLog of distinct members: ``kind`` is ``h``, ``d``, ``w`` or ``m``."""
    return f"{anchor}:{kind}:{bucket_text}"


def glob_escape(text: str) -> str:
    """``text`` as a literal inside a SCAN ``MATCH`` pattern."""
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


def prefix_pattern(prefix: str) -> str:
    """A SCAN ``MATCH`` pattern for exactly the keys that start with ``prefix + ":"``."""
    return glob_escape(prefix) + ":*"


# Reading keys back: stored names are parsed here, next to where they are made.
# Years have two digits; they are read back as 2000-2099.

def uid_pattern(prefix: str, uid_prefix: str = "") -> str:
    """A MATCH pattern for the keys of every uid starting with ``uid_prefix`` (a superset: parse them)."""
    if not uid_prefix:
        return prefix_pattern(prefix)
    return "%s:*:%s*" % (glob_escape(prefix), glob_escape(uid_prefix))


def month_hash_pattern(prefix: str, uid_prefix: str = "") -> str:
    """A MATCH pattern for the day-count hashes of the uids starting with ``uid_prefix``."""
    return "%s:user:%s*:analy:??-??" % (glob_escape(prefix), glob_escape(uid_prefix))


def counter_pattern(prefix: str, uid_prefix: str = "") -> str:
    """A MATCH pattern for the all-time counters of the uids starting with ``uid_prefix``."""
    return "%s:analy:%s*:count:*" % (glob_escape(prefix), glob_escape(uid_prefix))


def key_text(key: Any) -> str:
    """A key or field as a client returned it (``bytes`` without ``decode_responses``) as text."""
    return key.decode("utf-8", "surrogateescape") if isinstance(key, bytes) else key


def parse_key(prefix: str, key: str) -> Optional[Tuple[str, str, str]]:
    """``("counter", uid, metric)`` or ``("hash", uid, period)`` for a key of ``prefix``, else ``None``.

    A counter's uid ends at the first ``:count:`` (names holding ``:count:``
    are ambiguous in the 0.6.x layout; see the README).
    """
    head = prefix + ":"
    if not key.startswith(head):
        return None
    rest = key[len(head):]
    if rest.startswith("analy:"):
        uid, sep, metric = rest[len("analy:"):].partition(":count:")
        return ("counter", uid, metric) if sep and uid and metric else None
    if rest.startswith("user:"):
        uid, sep, period = rest[len("user:"):].rpartition(":analy:")
        if sep and uid and _PERIOD.match(period):
            return ("hash", uid, period)
    return None


# An export or a metric listing parses every field of every hash, and the
# same few hundred names (metrics x dates) repeat across millions of fields.
@functools.lru_cache(maxsize=1 << 16)
def parse_field(field_name: str) -> Optional[Tuple[str, Date]]:
    """``(metric, date)`` of a day, week or month field (a month's date is its first day)."""
    metric, sep, date_text = field_name.rpartition(":")
    if not sep or not metric:
        return None
    parts = date_text.split("-")
    if len(parts) not in (2, 3) or not all(len(part) == 2 and part.isdigit() for part in parts):
        return None
    try:
        return metric, datetime.date(2000 + int(parts[0]), int(parts[1]), int(parts[2]) if len(parts) == 3 else 1)
    except ValueError:
        return None


_PERIOD = re.compile(r"\A[0-9]{2}(-[0-9]{2})?\Z")
