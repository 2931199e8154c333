"""API v1 of the HTTP service, as seen from both ends: names, errors, and each call as one request.

The service (:mod:`analytics.service`) and the HTTP backends
(:class:`analytics.backends.http.HTTP` and its asyncio twin) share this module,
so that a call means the same thing on both sides:

* :data:`FIELDS` - the library's argument names and the API's field names;
* :func:`error_body` / :func:`error_from` - an exception as the JSON error
  object, and back into the exception the library raised (a ``TypeError`` stays
  a ``TypeError``, a lost Redis host a :class:`~analytics.errors.HostUnavailableError`);
* :data:`CALLS` - for every public call, the request it becomes
  (:class:`Request`) and how the answer becomes its return value.  The HTTP
  backends are thin drivers of this table; nothing here does I/O.

Values travel as JSON.  Dates are ``"YYYY-MM-DD"`` texts (a ``datetime``
travels as its date, which is all the library uses of it); tuples, lists and
other iterators travel as arrays (read once, as the library reads them).  A
value JSON cannot carry (bytes, sets, dicts, other objects) is refused with a
``TypeError`` before anything is sent.
"""
import collections.abc
import datetime
import inspect
import json
import re
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple

import redis.exceptions

from analytics import buckets
from analytics.errors import ConfigurationError, HostTimeoutError, HostUnavailableError, ServiceError
from analytics.plans.writes import check_bulk

#: Library argument name -> API field name (where they differ, the API's are the short ones).
FIELDS: Dict[str, str] = {
    "unique_identifier": "uid", "metric": "metric", "date": "date", "inc_amt": "inc", "count": "count",
    "from_date": "from", "start_date": "from", "end_date": "to", "limit": "limit", "group_by": "group_by",
    "metric_identifiers": "pairs", "sync_agg": "sync_agg", "update_counter": "update_counter",
    "cursor": "cursor", "prefix": "prefix", "uid_prefix": "uid_prefix", "chunk_size": "chunk_size",
    "events": "events", "counts": "counts",
}
_EVENT_INDEX = re.compile(r"^events\[(\d+)\]: ")
_WORD = re.compile(r"[a-z_]+")
_ONLY = re.compile(r"\(got only (start_date|end_date)\)")

#: Exception types a 400 answer may name: each is raised again as itself.
INPUT_ERRORS: Dict[str, type] = {"TypeError": TypeError, "ValueError": ValueError}
#: Seconds an HTTP backend waits to connect to the service and for each answer.
DEFAULT_TIMEOUT = 5.0
#: Events per NDJSON write of a streamed ``track_metrics`` body.
LINES_PER_WRITE = 1000


def event_index(message: str) -> Optional[int]:
    """The index ``track_metrics`` names in an ``events[i]: ...`` message, if any."""
    found = _EVENT_INDEX.match(message)
    return int(found.group(1)) if found else None


def error_field(message: str) -> Optional[str]:
    """The API field a library error message is about: the argument it starts with, if any."""
    text = _EVENT_INDEX.sub("", message)
    first = _WORD.match(text)
    if first and (first.group() in FIELDS or first.group() in FIELDS.values()):
        return FIELDS.get(first.group(), first.group())
    if text.startswith("each metric identifier"):
        return "pairs"
    given = _ONLY.search(text)
    if given:
        return "to" if given.group(1) == "start_date" else "from"
    return None


def error_body(status: int, message: str, **extra: Any) -> Dict[str, Any]:
    """The JSON of an error answer: ``{"error": {"status", "message", ...}}`` (``None`` extras left out)."""
    error = {"status": status, "message": message}
    error.update((key, value) for key, value in extra.items() if value is not None)
    return {"error": error}


def exception_body(exc: BaseException) -> Tuple[int, Dict[str, Any]]:
    """The status and JSON error object the service answers a call's exception with.

    ``None`` as the status means the exception is not one the API knows (the
    caller logs it and answers 500).
    """
    if isinstance(exc, HostUnavailableError):
        return 503, error_body(503, str(exc), type=type(exc).__name__, host=exc.host, applied=exc.applied,
                               cause_type=type(exc.cause).__name__, cause=str(exc.cause))
    if isinstance(exc, (TypeError, ValueError)):
        kind = "TypeError" if isinstance(exc, TypeError) else "ValueError"
        return 400, error_body(400, str(exc), type=kind, field=getattr(exc, "field", None) or error_field(str(exc)))
    if isinstance(exc, (redis.exceptions.ClusterDownError, redis.exceptions.TryAgainError,
                        redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, TimeoutError)):
        return 503, error_body(503, str(exc), type=type(exc).__name__)
    if isinstance(exc, redis.exceptions.OutOfMemoryError):
        return 507, error_body(507, "Redis is out of memory and refused the writes: %s" % exc, type=type(exc).__name__)
    if isinstance(exc, redis.exceptions.ResponseError):
        # What is stored cannot take the call (a counter that would overflow, a key of another type):
        # the call's other commands were applied (README, Guarantees).
        return 409, error_body(409, "Redis refused a command: %s" % exc, type=type(exc).__name__)
    return 500, error_body(500, "internal error")


def error_from(status: int, body: Any, url: str) -> Exception:
    """The exception an error answer stands for (the inverse of :func:`exception_body`)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return ServiceError(status, "%s answered HTTP %d without an API error object" % (url, status))
    message, kind = str(error.get("message", "")), error.get("type")
    if status == 400 and kind in INPUT_ERRORS:
        return INPUT_ERRORS[kind](message)
    if status == 503 and kind in ("HostUnavailableError", "HostTimeoutError") and "host" in error:
        cause_class = redis.exceptions.TimeoutError if error.get("cause_type") == "TimeoutError" \
            else redis.exceptions.ConnectionError
        cls = HostTimeoutError if kind == "HostTimeoutError" else HostUnavailableError
        return cls(str(error["host"]), cause_class(str(error.get("cause", message))), error.get("applied"))
    redis_error = getattr(redis.exceptions, kind, None) if isinstance(kind, str) else None
    if status in (409, 503, 507) and isinstance(redis_error, type) \
            and issubclass(redis_error, redis.exceptions.RedisError):
        return redis_error(message)
    return ServiceError(status, "%s: %s" % (url, message))


# -- values on the wire --------------------------------------------------------

def to_json(value: Any, name: str) -> Any:
    """``value`` as JSON: scalars as they are, tuples, lists and iterators as arrays."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple, collections.abc.Iterator)):
        return [to_json(item, name) for item in value]
    raise TypeError("%s: a %s cannot be sent to the analytics service (JSON carries str, int, float, "
                    "None, lists and dates)" % (name, type(value).__name__))


def wire_date(value: Any, name: str) -> Optional[str]:
    """A date argument as ``"YYYY-MM-DD"`` (``None`` stays); what is not a date is refused as the library refuses it."""
    if value is None:
        return None
    return buckets.as_date(value, name).isoformat()


def query(value: Any, name: str) -> Any:
    """A query parameter's text: a str as it is, an int in decimal, several (a list or tuple) repeated."""
    if isinstance(value, (list, tuple)):
        return [query(item, name) for item in value]
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TypeError("%s must be a str or an int, got %r" % (name, value))


def parse_date(text: str) -> datetime.date:
    """A ``YYYY-MM-DD`` date; ``ValueError`` for any other text."""
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and text[:4].isdigit():
        try:
            return datetime.date.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError("not a YYYY-MM-DD date: %r" % (text,))


def event_line(index: int, event: Any) -> bytes:
    """One ``track_metrics`` event as an NDJSON line (an array, its date as text).

    An event of the wrong shape is sent as it is: the service hands it to
    ``track_metrics``, whose own check names it.
    """
    where = "events[%d]" % index
    if isinstance(event, collections.abc.Sequence) and not isinstance(event, (str, bytes)):
        items = list(event)
        if len(items) >= 3:
            try:
                items[2] = wire_date(items[2], "date")
            except TypeError as exc:
                raise TypeError("%s: %s" % (where, exc)) from None
        value = to_json(items, where)
    else:
        value = to_json(event, where)
    return json.dumps(value, separators=(",", ":")).encode("utf-8") + b"\n"


def ndjson_writes(events: Iterable[Any]) -> Iterator[bytes]:
    """``events`` as NDJSON, :data:`LINES_PER_WRITE` lines per piece (each piece is one write)."""
    lines: List[bytes] = []
    for index, event in enumerate(events):
        lines.append(event_line(index, event))
        if len(lines) == LINES_PER_WRITE:
            yield b"".join(lines)
            lines = []
    if lines:
        yield b"".join(lines)


async def andjson_writes(events: Any) -> Any:
    """:func:`ndjson_writes` for an async iterable of events."""
    lines: List[bytes] = []
    index = 0
    async for event in events:
        lines.append(event_line(index, event))
        index += 1
        if len(lines) == LINES_PER_WRITE:
            yield b"".join(lines)
            lines = []
    if lines:
        yield b"".join(lines)


# -- every call as one request -------------------------------------------------

class Request:
    """One HTTP request of a call: ``method``, ``path``, query ``params``, and a JSON ``body`` or NDJSON ``events``."""

    __slots__ = ("method", "path", "params", "body", "events")

    def __init__(self, method: str, path: str, params: Optional[Dict[str, Any]] = None, body: Any = None,
                 events: Any = None):
        self.method, self.path, self.params, self.body, self.events = method, path, params or {}, body, events


#: A call's arguments by name, defaults applied; ``"ks"`` is the backend's keyspace (its prefix).
Arguments = Mapping[str, Any]
Encode = Callable[[Arguments], Request]
Decode = Callable[[Any], Any]


def _series(values: Mapping[str, Any]) -> Tuple[set, dict]:
    counts = {day: count for day, count in values["points"]}
    return set(counts), counts


def _pair(a: Arguments) -> List[Any]:
    return [[to_json(a["unique_identifier"], "unique_identifier"), to_json(a["metric"], "metric")]]


def _series_request(group: str, pairs: Callable[[Arguments], Any]) -> Encode:
    return lambda a: Request("POST", "/v1/series", body={
        "pairs": pairs(a), "from": wire_date(a["from_date"], "from_date"), "limit": to_json(a["limit"], "limit"),
        "group_by": to_json(a["group_by"], "group_by") if group == "" else group})


def _counts_request(pairs: Callable[[Arguments], Any]) -> Encode:
    return lambda a: Request("POST", "/v1/counts", body={
        "pairs": pairs(a), "from": wire_date(a["start_date"], "start_date"),
        "to": wire_date(a["end_date"], "end_date")})


def _sync_request(buckets_name: str) -> Encode:
    return lambda a: Request("POST", "/v1/sync", body={
        "uid": to_json(a["unique_identifier"], "unique_identifier"), "metric": to_json(a["metric"], "metric"),
        "from": wire_date(a["start_date"], "start_date"), "to": wire_date(a["end_date"], "end_date"),
        "buckets": buckets_name})


def _counts(counts: Any, chunk_size: Any) -> Any:
    """``set_counts``' items as JSON arrays, checked as the library checks the iterable first."""
    check_bulk(counts, chunk_size, "counts", "(uid, metric, count)")
    if hasattr(counts, "__aiter__"):
        raise TypeError("counts is an async iterable: over HTTP, set_counts takes a list or another iterable")
    return to_json(iter(counts), "counts")


def _identifiers(a: Arguments) -> Any:
    return to_json(a["metric_identifiers"], "metric_identifiers")


def _scan_day_counts(body: Mapping[str, Any]) -> Tuple[str, List[Tuple[str, str, datetime.date, int]]]:
    return body["cursor"], [(row["uid"], row["metric"], datetime.date.fromisoformat(row["date"]), row["count"])
                            for row in body["days"]]


#: Call name -> (the request its arguments make, the return value its answer's JSON makes).
CALLS: Dict[str, Tuple[Encode, Decode]] = {
    "track_metric": (
        lambda a: Request("POST", "/v1/events", body={
            "uid": to_json(a["unique_identifier"], "unique_identifier"), "metric": to_json(a["metric"], "metric"),
            "date": wire_date(a["date"], "date"), "inc": to_json(a["inc_amt"], "inc_amt")}),
        lambda body: body["counts"]),
    "track_metrics": (
        lambda a: Request("POST", "/v1/events", params={"chunk_size": query(a["chunk_size"], "chunk_size")},
                          events=a["events"]),
        lambda body: body["tracked"]),
    "track_count": (
        lambda a: Request("POST", "/v1/counters", body={
            "uid": to_json(a["unique_identifier"], "unique_identifier"), "metric": to_json(a["metric"], "metric"),
            "inc": to_json(a["inc_amt"], "inc_amt")}),
        lambda body: body["count"]),
    "set_counts": (
        lambda a: Request("PUT", "/v1/counters", params={"chunk_size": query(a["chunk_size"], "chunk_size")},
                          body={"counts": _counts(a["counts"], a["chunk_size"])}),
        lambda body: body["set"]),
    "set_metric_by_day": (
        lambda a: Request("PUT", "/v1/days", body={
            "uid": to_json(a["unique_identifier"], "unique_identifier"), "metric": to_json(a["metric"], "metric"),
            "date": wire_date(a["date"], "date"), "count": to_json(a["count"], "count"),
            "sync_agg": to_json(a["sync_agg"], "sync_agg"), "update_counter": to_json(a["update_counter"],
                                                                                      "update_counter")}),
        lambda body: body["results"]),
    "sync_agg_metric": (_sync_request("all"), lambda body: None),
    "sync_week_metric": (_sync_request("week"), lambda body: None),
    "sync_month_metric": (_sync_request("month"), lambda body: None),
    "clear_all": (lambda a: Request("DELETE", "/v1/data", params={"confirm": a["ks"].prefix}), lambda body: None),
    "get_metric_by_day": (_series_request("day", _pair), lambda body: _series(body["series"][0])),
    "get_metric_by_week": (_series_request("week", _pair), lambda body: _series(body["series"][0])),
    "get_metric_by_month": (_series_request("month", _pair), lambda body: _series(body["series"][0])),
    "get_metrics": (_series_request("", _identifiers), lambda body: [_series(item) for item in body["series"]]),
    "get_count": (_counts_request(_pair), lambda body: body["counts"][0]["count"]),
    "get_counts": (_counts_request(_identifiers), lambda body: [item["count"] for item in body["counts"]]),
    "scan_uids": (
        lambda a: Request("GET", "/v1/uids", params={
            "prefix": query(a["prefix"], "prefix"), "cursor": query(a["cursor"], "cursor"),
            "count": query(a["count"], "count")}),
        lambda body: (body["cursor"], body["uids"])),
    "get_uid_metrics": (
        lambda a: Request("GET", "/v1/metrics", params={"uid": query(a["unique_identifier"], "unique_identifier")}),
        lambda body: body["metrics"]),
    "scan_day_counts": (
        lambda a: Request("GET", "/v1/days", params={
            "cursor": query(a["cursor"], "cursor"), "count": query(a["count"], "count"),
            "uid_prefix": query(a["uid_prefix"], "uid_prefix")}),
        _scan_day_counts),
    "scan_counters": (
        lambda a: Request("GET", "/v1/counters", params={
            "cursor": query(a["cursor"], "cursor"), "count": query(a["count"], "count"),
            "uid_prefix": query(a["uid_prefix"], "uid_prefix")}),
        lambda body: (body["cursor"], [(row["uid"], row["metric"], row["count"]) for row in body["counters"]])),
    "ping": (lambda a: Request("GET", "/healthz"), lambda body: body["nodes"]),
}


def decode_json(raw: bytes) -> Any:
    """An answer's JSON (``None`` when it is not JSON)."""
    try:
        return json.loads(raw)
    except ValueError:
        return None


def answer(name: str, status: int, raw: bytes, url: str) -> Any:
    """The return value of call ``name`` from the service's answer; raises the call's exception on an error."""
    body = decode_json(raw)
    if status != 200:
        raise error_from(status, body, url)
    if not isinstance(body, dict):
        raise ServiceError(status, "%s answered HTTP 200 without a JSON object" % url)
    return CALLS[name][1](body)




# -- what both HTTP backends share -------------------------------------------------

def bind(plan: Callable[..., Any], keyspace: Any, args: Tuple[Any, ...], kwargs: Mapping[str, Any]) -> Dict[str, Any]:
    """A call's arguments by name, defaults applied (a misspelt keyword raises ``TypeError``, as in every backend)."""
    bound = inspect.signature(plan).bind(keyspace, *args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def client_options(settings: Any) -> Tuple[str, Dict[str, str], Optional[float]]:
    """``(base URL, headers, timeout)`` of an HTTP backend's settings ``{"url", "token", "timeout"}``."""
    if not isinstance(settings, Mapping):
        raise ConfigurationError("the HTTP backend's settings must be a dict like {'url': 'http://host:8000'}, got %r"
                                 % (settings,))
    unknown = sorted(set(settings) - {"url", "token", "timeout"})
    if unknown:
        raise ConfigurationError("unknown HTTP backend setting %r (expected url, token, timeout)" % unknown[0])
    url = settings.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConfigurationError("the HTTP backend's 'url' must be an http:// or https:// URL, got %r" % (url,))
    token = settings.get("token")
    if token is not None and (not isinstance(token, str) or not token or "\n" in token):
        raise ConfigurationError("the HTTP backend's 'token' must be a non-empty str")
    timeout = settings.get("timeout", DEFAULT_TIMEOUT)
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or not 0 < timeout < float("inf")):
        raise ConfigurationError("the HTTP backend's 'timeout' must be a positive number of seconds or None, got %r"
                                 % (timeout,))
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    return url.rstrip("/"), headers, timeout


async def _async_writes(pieces: Iterable[bytes]) -> Any:
    for piece in pieces:
        yield piece


def prepare(name: str, arguments: Arguments, asynchronous: bool) -> Tuple[Request, Any, Dict[str, str]]:
    """Call ``name``'s request, the body to send (bytes, or an (async) iterator of NDJSON pieces) and its headers.

    A bulk load's events are checked as the library checks them before any is
    read (``track_metrics``' own check), then streamed as they are read.
    """
    if name not in CALLS:
        raise NotImplementedError("%s is not part of the service's API v1: call it on a Redis backend" % name)
    request = CALLS[name][0](arguments)
    if request.events is not None:
        events = request.events
        check_bulk(events, arguments["chunk_size"])
        if hasattr(events, "__aiter__"):
            if not asynchronous:
                raise TypeError("events is an async iterable: use the asyncio backend (analytics.aio)")
            return request, andjson_writes(events), {"Content-Type": "application/x-ndjson"}
        pieces = ndjson_writes(events)
        return request, _async_writes(pieces) if asynchronous else pieces, {"Content-Type": "application/x-ndjson"}
    if request.body is not None:
        # Non-ASCII is escaped, so that any text the library would take survives the trip.
        return request, json.dumps(request.body, separators=(",", ":")).encode("ascii"), \
            {"Content-Type": "application/json"}
    return request, None, {}
