"""Checks of the public API's arguments, done before anything is sent (POLICY C4-C6, C8).

Every rejection is a ``TypeError`` (wrong kind of value) or a ``ValueError``
(right kind, impossible value) whose message names the argument.
"""
import collections.abc
import datetime
import zoneinfo
from typing import Any, Dict, List, Mapping, Optional, Tuple

from analytics import buckets, schema
from analytics.plans.steps import DEFAULT_RETENTION, Keyspace

#: ``group_by`` values of ``get_metrics`` (``"hour"`` needs a backend built with ``hours=True``).
GROUPS = ("hour", "day", "week", "month", "year")
_SCALARS = (str, bytes, bytearray, int, float)
INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1


def name(value: Any, what: str) -> str:
    """One uid or metric as its key text; ``None`` and ``""`` are refused."""
    if type(value) is str and value and value.isascii():
        return value  # nearly every name: the checks below could only pass it
    if value is None:
        raise ValueError("%s must not be None" % what)
    if isinstance(value, bool) or not isinstance(value, _SCALARS):
        raise TypeError("%s must be a str or an int, got %r" % (what, value))
    try:
        text = schema.text(value)
    except UnicodeDecodeError:
        # A plain ValueError, not UnicodeDecodeError: callers re-raise it with their
        # context as type(exc)(message), which UnicodeDecodeError's constructor refuses.
        raise ValueError("%s %r is not UTF-8 text" % (what, value)) from None
    if not text:
        raise ValueError("%s must not be empty" % what)
    return encodable(text, what, value)


def encodable(text: str, what: str, value: Any = None) -> str:
    """``text`` if it can be sent to Redis as UTF-8; a lone surrogate raises ``ValueError`` naming ``what``."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            # Caught here, not when the batch is packed: by then other hosts may have theirs.
            raise ValueError("%s %r is not valid Unicode (lone surrogate)"
                             % (what, text if value is None else value)) from None
    return text


def prefix(value: Any) -> str:
    """A backend's key prefix: a non-empty str that can be encoded (checked when the backend is built)."""
    if not isinstance(value, str):
        raise TypeError("prefix must be a str, got %r" % (value,))
    if not value:
        raise ValueError("prefix must not be empty: clear_all() would then match every key")
    return encodable(value, "prefix")


def uids(value: Any) -> List[str]:
    """A uid, or a list, tuple or iterator of uids (read once, up front: POLICY C3)."""
    if type(value) is str:
        return [name(value, "unique_identifier")]
    if isinstance(value, (list, tuple, collections.abc.Iterator)):
        return [name(item, "unique_identifier") for item in value]
    if isinstance(value, (collections.abc.Set, collections.abc.Mapping)):
        raise TypeError("unique_identifier must be one uid or a list/tuple of uids, got %r" % (value,))
    return [name(value, "unique_identifier")]


def metrics(value: Any) -> List[str]:
    """A metric (str or int), or any iterable of metrics (read once, up front)."""
    if isinstance(value, _SCALARS) or value is None:
        return [name(value, "metric")]
    if isinstance(value, collections.abc.Iterable) and not isinstance(value, collections.abc.Mapping):
        return [name(item, "metric") for item in value]
    raise TypeError("metric must be a str, an int or a list of them, got %r" % (value,))


def event_names(uid: Any, metric: Any) -> Tuple[str, str]:
    """A bulk event's uid and metric, checked: plain ASCII text passes at once.

    Bulk loads check every event; the full checks cost more than the rest of
    an event's work, and nearly every uid and metric is such text.
    """
    if type(uid) is not str or not uid or not uid.isascii():
        uid = name(uid, "unique_identifier")
    if type(metric) is not str or not metric or not metric.isascii():
        metric = name(metric, "metric")
    return uid, metric


def one_uid(value: Any) -> str:
    return name(value, "unique_identifier")


def one_metric(value: Any) -> str:
    return name(value, "metric")


def integer(value: Any, what: str) -> int:
    """An ``int`` (``bool`` refused) as a plain ``int``: a subclass such as ``IntEnum`` is its value.

    The plain ``int`` matters on the wire: packers format a subclass with its
    own ``str()`` or refuse it.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("%s must be an int, got %r" % (what, value))
    value = int(value)
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError("%s must fit in a signed 64-bit integer (Redis' range), got %r" % (what, value))
    return value


def limit(value: Any) -> int:
    value = integer(value, "limit")
    if value < 0:
        raise ValueError("limit must not be negative, got %r" % (value,))
    return value


def group_by(value: Any) -> str:
    if isinstance(value, str) and value.lower() in GROUPS:
        return value.lower()
    raise ValueError("group_by must be 'hour', 'day', 'week', 'month' or 'year', got %r" % (value,))


def pairs(value: Any) -> List[Tuple[str, str]]:
    """``(uid, metric)`` pairs, read once."""
    if isinstance(value, (str, bytes)) or not isinstance(value, collections.abc.Iterable):
        raise TypeError("metric_identifiers must be a list of (uid, metric) pairs, got %r" % (value,))
    result = []
    for item in value:
        # A tuple is a Sequence and not text: the slow isinstance checks are for everything else.
        not_a_pair = type(item) is not tuple and (isinstance(item, (str, bytes))
                                                  or not isinstance(item, collections.abc.Sequence))
        if not_a_pair or len(item) != 2:
            raise TypeError("each metric identifier must be a (uid, metric) pair, got %r" % (item,))
        result.append((name(item[0], "unique_identifier"), name(item[1], "metric")))
    return result


def date_range(start: Any, end: Any, zone: Optional[datetime.tzinfo] = None) -> Tuple[datetime.date, datetime.date]:
    """A ``get_count`` range: both bounds or neither (C6); reversed ranges are swapped (K7)."""
    if (start is None) != (end is None):
        raise ValueError("give both start_date and end_date, or neither (got only %s)"
                         % ("start_date" if end is None else "end_date"))
    first, last = buckets.local_date(start, zone, "start_date"), buckets.local_date(end, zone, "end_date")
    return (first, last) if first <= last else (last, first)


def sync_range(start: Any, end: Any, zone: Optional[datetime.tzinfo] = None) -> Tuple[datetime.date, datetime.date]:
    first, last = buckets.local_date(start, zone, "start_date"), buckets.local_date(end, zone, "end_date")
    if last < first:
        raise ValueError("end_date %s lies before start_date %s" % (last, first))
    return first, last


def members(value: Any) -> List[str]:
    """One member of a unique count (str or int, formatted as uids are), or any iterable of them."""
    if isinstance(value, _SCALARS) or value is None:
        return [name(value, "members")]
    if isinstance(value, collections.abc.Iterable) and not isinstance(value, collections.abc.Mapping):
        return [name(item, "members") for item in value]
    raise TypeError("members must be a str, an int or an iterable of them, got %r" % (value,))


# -- backend options, checked when the backend is built -------------------------

def flag_option(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError("%s must be True or False, got %r" % (what, value))
    return value


def timezone_option(value: Any) -> Optional[datetime.tzinfo]:
    """``None``, an IANA zone name (``"Europe/Berlin"``) or a ``zoneinfo.ZoneInfo``."""
    if value is None or isinstance(value, zoneinfo.ZoneInfo):
        return value
    if not isinstance(value, str):
        raise TypeError("timezone must be an IANA time zone name such as 'Europe/Berlin', got %r" % (value,))
    try:
        return zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError("timezone %r is not a known IANA time zone (is tzdata installed?)" % (value,)) from None


def retention_option(value: Any) -> Dict[str, Optional[int]]:
    """``{kind: timedelta or None}`` as seconds per kind; kinds not given keep their defaults."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError("retention must be a dict such as {'day': timedelta(days=90)}, got %r" % (value,))
    unknown = sorted(map(repr, set(value) - set(DEFAULT_RETENTION)))
    if unknown:
        raise ValueError("retention: unknown kind(s) %s; expected %s"
                         % (", ".join(unknown), ", ".join(map(repr, DEFAULT_RETENTION))))
    seconds: Dict[str, Optional[int]] = {}
    for kind, keep in value.items():
        if keep is None:
            seconds[kind] = None
            continue
        if not isinstance(keep, datetime.timedelta):
            raise TypeError("retention[%r] must be a datetime.timedelta or None, got %r" % (kind, keep))
        if keep < datetime.timedelta(0) or keep.microseconds:
            raise ValueError("retention[%r] must be a whole, non-negative number of seconds, got %r" % (kind, keep))
        seconds[kind] = int(keep.total_seconds())
    return seconds


def keyspace(prefix_value: str, hours: Any = False, years: Any = False, timezone: Any = None,
             retention: Any = None) -> Keyspace:
    """The :class:`Keyspace` of a backend built with these options, every one checked."""
    return Keyspace(prefix(prefix_value), hours=flag_option(hours, "hours"), years=flag_option(years, "years"),
                    zone=timezone_option(timezone), retention=retention_option(retention))
