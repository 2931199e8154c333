"""The ASGI application: API v1 over an asyncio backend.

Each endpoint parses its HTTP input into a library call's arguments, awaits
that call on the backend, and shapes its result as JSON (or CSV).  The calls'
checks are the library's own: whatever they refuse becomes a 400 carrying the
exception's type and the API field it names (:mod:`analytics.webapi`), and
nothing is written.  The service adds only what HTTP needs: tokens, body
limits, content types and field names.
"""
import contextlib
import datetime
import inspect
import io
import json
import logging
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, List, Mapping, Optional, Tuple

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from analytics import buckets, formats, plans, schema, webapi
from analytics.backends import arguments
from analytics.service import dashboard, openapi
from analytics.service.auth import Tokens, allows

log = logging.getLogger("analytics.service")

DEFAULT_MAX_BODY = 16 * 1024 * 1024
#: (uid, metric) increments one JSON body may expand to (lists of uids times lists of metrics).
MAX_INCREMENTS = 100_000
#: (uid, metric, bucket) values one request may read or write: each is planned on the event loop, so
#: this bounds how long one request can keep the others waiting.
MAX_CELLS = 50_000
#: Events per NDJSON chunk and keys per listing page.
MAX_PAGE = 100_000
JSON_TYPE = "application/json"
NDJSON_TYPE = "application/x-ndjson"
DATE, PLAIN = "date", "plain"

Handler = Callable[[Request], Awaitable[Response]]


class ApiError(Exception):
    """An answer other than 400 for bad input: 401, 403, 404, 413, 415."""

    def __init__(self, status: int, message: str, **extra: Any):
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


def field_error(kind: type, field: str, message: str, **extra: Any) -> Exception:
    """A ``TypeError``/``ValueError`` about API field ``field`` (the 400 names it)."""
    exc = kind(message)
    exc.field = field  # type: ignore[attr-defined]
    for key, value in extra.items():
        setattr(exc, key, value)
    return exc


def library_default(call: str, argument: str) -> Any:
    """The library's default of ``argument`` of ``call`` (the API's default too)."""
    return inspect.signature(plans.CALLS[call]).parameters[argument].default


class JSON(Response):
    """A JSON answer, ASCII-only and compact."""

    media_type = JSON_TYPE

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":")).encode("ascii")


def error_response(status: int, body: Dict[str, Any], headers: Optional[Mapping[str, str]] = None) -> Response:
    return JSON(body, status_code=status, headers=dict(headers or {}))


# -- reading requests ----------------------------------------------------------

def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refused with 413 beyond ``limit`` bytes (before it is all read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "the body is %s bytes; this service takes at most %d" % (declared, limit))
    parts, size = [], 0
    async for part in request.stream():
        size += len(part)
        if size > limit:
            raise ApiError(413, "the body exceeds %d bytes, the most this service takes" % limit)
        parts.append(part)
    return b"".join(parts)


async def read_json(request: Request, limit: int) -> Any:
    kind = media_type(request)
    if kind != JSON_TYPE:
        raise ApiError(415, "send the body as Content-Type: %s (got %s)" % (JSON_TYPE, kind or "none"))
    raw = await read_body(request, limit)
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise field_error(ValueError, "body", "the body is not valid JSON: %s" % (exc,)) from None


def date_value(value: Any, field: str) -> Any:
    """A JSON date: a ``YYYY-MM-DD`` text becomes a date; anything else goes to the library as it is."""
    if not isinstance(value, str):
        return value
    try:
        return webapi.parse_date(value)
    except ValueError:
        raise field_error(ValueError, field, "%s must be a YYYY-MM-DD date, got %r" % (field, value)) from None


#: API field -> (library argument, kind, required)
Spec = Mapping[str, Tuple[str, str, bool]]


def fields(body: Any, spec: Spec, where: str = "") -> Dict[str, Any]:
    """The library keyword arguments of a JSON object; unknown and missing fields are refused."""
    lead = where + ": " if where else ""
    if not isinstance(body, dict):
        raise field_error(TypeError, "body", "%sexpected a JSON object, got %s" % (lead, json.dumps(body)[:80]))
    for name in body:
        if name not in spec:
            raise field_error(TypeError, name, "%sunknown field %r (expected %s)" % (lead, name, ", ".join(spec)))
    found: Dict[str, Any] = {}
    for name, (argument, kind, required) in spec.items():
        if name not in body:
            if required:
                raise field_error(TypeError, name, "%s%s is required" % (lead, name))
            continue
        found[argument] = date_value(body[name], name) if kind == DATE else body[name]
    return found


QuerySpec = Mapping[str, str]  # API parameter -> "text" | "int" | "date" | "list"


def params(request: Request, spec: QuerySpec) -> Dict[str, Any]:
    """The query parameters named in ``spec``, converted; unknown ones are refused.

    A parameter given several times is a list (the library decides whether
    that is allowed), except ``int`` and ``date`` ones, which must be given once.
    """
    query = request.query_params
    found: Dict[str, Any] = {}
    for name in query.keys():
        if name not in spec:
            raise field_error(TypeError, name, "unknown parameter %r (expected %s)" % (name, ", ".join(spec)))
    for name, kind in spec.items():
        values = query.getlist(name)
        if not values:
            continue
        if kind == "list":
            found[name] = values
            continue
        if len(values) > 1 and kind in ("int", "date"):
            raise field_error(TypeError, name, "%s must be given once" % name)
        value: Any = values[0] if len(values) == 1 else values
        if kind == "int":
            text = value.strip()
            if not (text.lstrip("-").isdigit() and text.isascii()):
                raise field_error(TypeError, name, "%s must be an int, got %r" % (name, value))
            value = int(text)
        elif kind == "date":
            value = date_value(value, name)
        found[name] = value
    return found


def required(found: Mapping[str, Any], name: str) -> Any:
    if name not in found:
        raise field_error(TypeError, name, "%s is required" % name)
    return found[name]


def span_limit(group: Any, start: Any, end: Any) -> int:
    """How many buckets of ``group`` run from ``start`` to ``end`` (both included)."""
    group = arguments.group_by(group)
    start, end = buckets.as_date(start, "from"), buckets.as_date(end, "to")
    if end < start:
        raise field_error(ValueError, "to", "to %s lies before from %s" % (end, start))
    if group == "day":
        return (end - start).days + 1
    if group == "week":
        return buckets.count_weeks(buckets.monday_of(start), end)
    return buckets.count_months(start, end)


def width(value: Any) -> int:
    """How many uids (or metrics) a JSON value stands for."""
    return len(value) if isinstance(value, list) else 1


def days_between(start: Any, end: Any, swapped: bool = False) -> int:
    """Days from ``start`` to ``end``, both included, if both are dates in order; else 1 (the library refuses them).

    With ``swapped``, a reversed range counts as its forward twin (``get_counts`` swaps it, K7).
    """
    if isinstance(start, datetime.date) and isinstance(end, datetime.date):
        if swapped and end < start:
            start, end = end, start
        if start <= end:
            return (end - start).days + 1
    return 1


def bound(cells: int, field: str) -> None:
    """Refuse a request that would read or write more than :data:`MAX_CELLS` values."""
    if cells > MAX_CELLS:
        raise field_error(ValueError, field, "this request would touch %d (uid, metric, bucket) values; this service "
                                             "answers at most %d per request: split it" % (cells, MAX_CELLS))


def bound_page(found: Mapping[str, Any], name: str) -> None:
    value = found.get(name)
    if isinstance(value, int) and value > MAX_PAGE:
        raise field_error(ValueError, name, "%s must be at most %d on this service, got %d" % (name, MAX_PAGE, value))


def series_args(found: Dict[str, Any]) -> Dict[str, Any]:
    """``get_metrics`` keywords from ``from``/``limit``/``to``/``group_by``."""
    call: Dict[str, Any] = {"from_date": required(found, "from")}
    if "group_by" in found:
        call["group_by"] = found["group_by"]
    if "to" in found:
        if "limit" in found:
            raise field_error(ValueError, "to", "give limit or to, not both")
        call["limit"] = span_limit(found.get("group_by", library_default("get_metrics", "group_by")),
                                   call["from_date"], found["to"])
    elif "limit" in found:
        call["limit"] = found["limit"]
    return call


def cross(uids: List[Any], metrics: List[Any]) -> List[Tuple[Any, Any]]:
    """Every uid with every metric, uid-major (as the library pairs them)."""
    return [(uid, metric) for uid in uids for metric in metrics]


def texts(pairs: Any) -> List[Tuple[str, str]]:
    """The key texts of pairs the library accepted."""
    return [(schema.text(uid), schema.text(metric)) for uid, metric in pairs]


# -- the endpoints -------------------------------------------------------------

EVENT: Spec = {"uid": ("unique_identifier", PLAIN, True), "metric": ("metric", PLAIN, True),
               "date": ("date", DATE, False), "inc": ("inc_amt", PLAIN, False)}


COUNT: Spec = {"uid": ("unique_identifier", PLAIN, True), "metric": ("metric", PLAIN, True),
               "count": ("count", PLAIN, True)}


class Api:
    """The endpoints, bound to one backend."""

    def __init__(self, backend: Any, max_body: int):
        self.backend = backend
        self.max_body = max_body

    # -- writing

    async def post_events(self, request: Request) -> Response:
        if media_type(request) == NDJSON_TYPE:
            return await self.ndjson_events(request)
        body = await read_json(request, self.max_body)
        if isinstance(body, dict):
            found = fields(body, EVENT)
            bound(4 * width(found["unique_identifier"]) * width(found["metric"]), "uid")
            counts = await self.backend.track_metric(**found)
            return JSON({"tracked": len(counts), "counts": counts})
        if not isinstance(body, list):
            raise field_error(TypeError, "body", "expected an event object or an array of them")
        events, origin = [], []
        for index, item in enumerate(body):
            found = fields(item, EVENT, "events[%d]" % index)
            uids, names = found["unique_identifier"], found["metric"]
            for uid, name in cross(uids if isinstance(uids, list) else [uids],
                                   names if isinstance(names, list) else [names]):
                events.append((uid, name, found.get("date"), found["inc_amt"]) if "inc_amt" in found
                              else (uid, name, found.get("date")))
                origin.append(index)
            if len(events) > MAX_INCREMENTS:
                raise ApiError(413, "the body expands to more than %d (uid, metric) increments; split it"
                               % MAX_INCREMENTS)
        try:
            # One chunk: every event is checked before any is sent, so a bad one writes nothing.
            tracked = await self.backend.track_metrics(events, chunk_size=max(1, len(events)))
        except (TypeError, ValueError) as exc:
            expanded = webapi.event_index(str(exc))
            if expanded is None:
                raise
            message = "events[%d]: %s" % (origin[expanded], str(exc).split(": ", 1)[1])
            raise field_error(type(exc), webapi.error_field(message) or "events", message,
                              index=origin[expanded]) from None
        return JSON({"tracked": tracked})

    async def ndjson_events(self, request: Request) -> Response:
        found = params(request, {"chunk_size": "int"})
        bound_page(found, "chunk_size")
        size = found.get("chunk_size", library_default("track_metrics", "chunk_size"))
        chunks = request.stream().__aiter__()
        try:
            tracked = await self.backend.track_metrics(
                ndjson_events(chunks, self.max_body),
                **({"chunk_size": found["chunk_size"]} if "chunk_size" in found else {}))
        except (TypeError, ValueError) as exc:
            index = webapi.event_index(str(exc))
            if index is None:
                raise
            # The client may still be sending: read the rest (and drop it) so that it gets this answer.
            async for _ in chunks:
                pass
            applied = index // size * size if isinstance(size, int) and size > 0 else 0
            message = "%s; line %d refused: the %d events before its chunk were applied, none after" % (
                exc, index + 1, applied)
            raise field_error(type(exc), webapi.error_field(str(exc)) or "events", message, line=index + 1,
                              tracked=applied) from None
        return JSON({"tracked": tracked})

    async def post_counters(self, request: Request) -> Response:
        body = await read_json(request, self.max_body)
        count = await self.backend.track_count(**fields(body, {
            "uid": ("unique_identifier", PLAIN, True), "metric": ("metric", PLAIN, True),
            "inc": ("inc_amt", PLAIN, False)}))
        return JSON({"count": count})

    async def put_counters(self, request: Request) -> Response:
        found = params(request, {"chunk_size": "int"})
        bound_page(found, "chunk_size")
        body = await read_json(request, self.max_body)
        items = fields(body, {"counts": ("counts", PLAIN, True)})["counts"]
        if not isinstance(items, list):
            raise field_error(TypeError, "counts", "counts must be an array of [uid, metric, count] arrays or "
                                                   "{uid, metric, count} objects")
        if len(items) > MAX_INCREMENTS:
            raise ApiError(413, "more than %d counts in one body; split it" % MAX_INCREMENTS)
        counts = [tuple(item) if isinstance(item, list) else
                  tuple(fields(item, COUNT, "counts[%d]" % index).values()) if isinstance(item, dict) else item
                  for index, item in enumerate(items)]
        done = await self.backend.set_counts(counts, **found)
        return JSON({"set": done})

    async def put_days(self, request: Request) -> Response:
        body = await read_json(request, self.max_body)
        found = fields(body, {
            "uid": ("unique_identifier", PLAIN, True), "metric": ("metric", PLAIN, True),
            "date": ("date", DATE, True), "count": ("count", PLAIN, True),
            "sync_agg": ("sync_agg", PLAIN, False), "update_counter": ("update_counter", PLAIN, False)})
        # A day, and the week and month it syncs (some 40 days read).
        bound(40 * width(found["unique_identifier"]) * width(found["metric"]), "uid")
        results = await self.backend.set_metric_by_day(**found)
        return JSON({"results": results})

    async def post_sync(self, request: Request) -> Response:
        body = await read_json(request, self.max_body)
        found = fields(body, {
            "uid": ("unique_identifier", PLAIN, True), "metric": ("metric", PLAIN, True),
            "from": ("start_date", DATE, True), "to": ("end_date", DATE, True), "buckets": ("buckets", PLAIN, False)})
        which = found.pop("buckets", "all")
        # Every day from the first week's Monday (or month's first) to the last month's end is read.
        bound((days_between(found["start_date"], found["end_date"]) + 40)
              * width(found["unique_identifier"]) * width(found["metric"]), "to")
        calls = {"all": self.backend.sync_agg_metric, "week": self.backend.sync_week_metric,
                 "month": self.backend.sync_month_metric}
        if not isinstance(which, str) or which not in calls:
            raise field_error(ValueError, "buckets", "buckets must be 'all', 'week' or 'month', got %r" % (which,))
        await calls[which](**found)
        return JSON({"synced": which})

    async def delete_data(self, request: Request) -> Response:
        confirm = params(request, {"confirm": "text"}).get("confirm")
        prefix = self.backend.prefix
        if confirm != prefix:
            raise field_error(ValueError, "confirm", "confirm must be this service's key prefix (%r), got %r"
                              % (prefix, confirm))
        await self.backend.clear_all()
        return JSON({"cleared": prefix})

    # -- reading

    async def series(self, pairs: Any, call: Dict[str, Any], fmt: str) -> Response:
        limit = call.get("limit", library_default("get_metrics", "limit"))
        if isinstance(pairs, list) and isinstance(limit, int):
            # No pairs still plans every bucket of the range: bounded as one pair.
            bound(max(len(pairs), 1) * max(limit, 1), "limit")
        results = await self.backend.get_metrics(pairs, **call)
        group = arguments.group_by(call.get("group_by", library_default("get_metrics", "group_by")))
        rows = [formats.series_rows(uid, metric, counts) for (uid, metric), (_, counts) in zip(texts(pairs), results)]
        if fmt == "csv":
            out = io.StringIO()
            formats.write_series_csv(out, [row for series in rows for row in series])
            return Response(out.getvalue(), media_type="text/csv; charset=utf-8")
        if fmt == "rows":
            return JSON([{"date": day, "uid": uid, "metric": metric, "count": count}
                         for series in rows for day, uid, metric, count in series])
        return JSON({"group_by": group, "series": [
            {"uid": uid, "metric": metric, "points": [[day, count] for day, _, _, count in series],
             "total": sum(count for _, _, _, count in series)}
            for (uid, metric), series in zip(texts(pairs), rows)]})

    async def get_series(self, request: Request) -> Response:
        found = params(request, {"uid": "list", "metric": "list", "group_by": "text", "from": "date",
                                 "limit": "int", "to": "date", "format": "text"})
        fmt = found.get("format", "json")
        if fmt not in ("json", "csv", "rows"):
            raise field_error(ValueError, "format", "format must be 'json', 'csv' or 'rows', got %r" % (fmt,))
        pairs = cross(required(found, "uid"), required(found, "metric"))
        return await self.series(pairs, series_args(found), fmt)

    async def post_series(self, request: Request) -> Response:
        body = await read_json(request, self.max_body)
        found = fields(body, {"pairs": ("pairs", PLAIN, True), "from": ("from", DATE, True),
                              "limit": ("limit", PLAIN, False), "to": ("to", DATE, False),
                              "group_by": ("group_by", PLAIN, False)})
        return await self.series(found["pairs"], series_args(found), "json")

    async def counts(self, pairs: Any, start: Any, end: Any) -> Response:
        if isinstance(pairs, list):
            # Whole months come from one field each, the days around them from theirs;
            # a reversed range is swapped by the library (K7), so it is bounded the same.
            bound(len(pairs) * (days_between(start, end, swapped=True) // 28 + 62), "pairs")
        results = await self.backend.get_counts(pairs, start, end)
        return JSON({"counts": [{"uid": uid, "metric": metric, "count": count}
                                for (uid, metric), count in zip(texts(pairs), results)]})

    async def get_counts(self, request: Request) -> Response:
        found = params(request, {"uid": "list", "metric": "list", "from": "date", "to": "date"})
        pairs = cross(required(found, "uid"), required(found, "metric"))
        return await self.counts(pairs, found.get("from"), found.get("to"))

    async def post_counts(self, request: Request) -> Response:
        body = await read_json(request, self.max_body)
        found = fields(body, {"pairs": ("pairs", PLAIN, True), "from": ("from", DATE, False),
                              "to": ("to", DATE, False)})
        return await self.counts(found["pairs"], found.get("from"), found.get("to"))

    async def get_uids(self, request: Request) -> Response:
        found = params(request, {"prefix": "text", "cursor": "text", "count": "int"})
        bound_page(found, "count")
        cursor, uids = await self.backend.scan_uids(**found)
        return JSON({"uids": uids, "cursor": cursor})

    async def get_metrics(self, request: Request) -> Response:
        found = params(request, {"uid": "text"})
        return JSON({"metrics": await self.backend.get_uid_metrics(required(found, "uid"))})

    async def get_days(self, request: Request) -> Response:
        found = params(request, {"cursor": "text", "count": "int", "uid_prefix": "text"})
        bound_page(found, "count")
        cursor, rows = await self.backend.scan_day_counts(**found)
        return JSON({"days": [{"uid": uid, "metric": metric, "date": day.isoformat(), "count": count}
                              for uid, metric, day, count in rows], "cursor": cursor})

    async def get_counters(self, request: Request) -> Response:
        found = params(request, {"cursor": "text", "count": "int", "uid_prefix": "text"})
        bound_page(found, "count")
        cursor, rows = await self.backend.scan_counters(**found)
        return JSON({"counters": [{"uid": uid, "metric": metric, "count": count} for uid, metric, count in rows],
                     "cursor": cursor})

    async def healthz(self, request: Request) -> Response:
        return JSON({"status": "ok", "nodes": await self.backend.ping()})


async def ndjson_events(chunks: AsyncIterator[bytes], max_line: int) -> AsyncIterator[Any]:
    """The events of an NDJSON body, one per line, as ``track_metrics`` takes them.

    A line is an object ``{"uid", "metric", "date", "inc"}`` or an array
    ``[uid, metric, date(, inc)]``; its date text becomes a date and the rest is
    the library's to check.  A line that is not JSON raises ``ValueError``
    naming it as ``events[i]`` (line ``i + 1``), as the library names its events.
    """
    index = 0
    pending = b""
    async for chunk in chunks:
        pending += chunk
        lines = pending.split(b"\n")
        pending = lines.pop()
        if len(pending) > max_line:
            raise ApiError(413, "line %d is longer than %d bytes" % (index + 1, max_line))
        for line in lines:
            yield ndjson_event(index, line)
            index += 1
    if pending.strip():
        yield ndjson_event(index, pending)


def ndjson_event(index: int, line: bytes) -> Any:
    where = "events[%d]" % index
    try:
        value = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise field_error(ValueError, "events", "%s: line %d is not valid JSON: %s" % (where, index + 1, exc)) \
            from None
    if isinstance(value, dict):
        found = fields(value, EVENT, where)
        event = (found["unique_identifier"], found["metric"], found.get("date"))
        return event + (found["inc_amt"],) if "inc_amt" in found else event
    if isinstance(value, list):
        if len(value) >= 3:
            try:
                value[2] = date_value(value[2], "date")
            except ValueError as exc:
                raise field_error(ValueError, "date", "%s: %s" % (where, exc)) from None
        return tuple(value)
    return value


# -- wiring ------------------------------------------------------------------------

def guarded(handler: Handler, tokens: Optional[Tokens], scope: Optional[str]) -> Handler:
    """``handler`` behind the token check for ``scope``, its exceptions answered as API errors."""

    async def endpoint(request: Request) -> Response:
        try:
            if tokens and scope is not None:
                check_token(request, tokens, scope)
            return await handler(request)
        except ApiError as exc:
            headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
            return error_response(exc.status, webapi.error_body(exc.status, exc.message, **exc.extra), headers)
        except ClientDisconnect:
            return error_response(400, webapi.error_body(400, "the client went away before the body was read"))
        except Exception as exc:
            status, body = webapi.exception_body(exc)
            if status == 400:
                for extra in ("index", "line", "tracked"):
                    if hasattr(exc, extra):
                        body["error"][extra] = getattr(exc, extra)
            if status == 500:
                log.exception("%s %s failed", request.method, request.url.path)
            return error_response(status, body)

    return endpoint


def check_token(request: Request, tokens: Tokens, scope: str) -> None:
    header = request.headers.get("authorization", "")
    kind, _, token = header.partition(" ")
    token = token.strip()
    if kind.lower() != "bearer" or not token:
        raise ApiError(401, "send a token: Authorization: Bearer TOKEN")
    found = tokens.scope_of(token)
    if found is None:
        raise ApiError(401, "unknown token")
    if not allows(found, scope):
        raise ApiError(403, "this token's scope is %r; %s %s needs %r" % (found, request.method, request.url.path,
                                                                         scope))


def http_errors(methods: Mapping[str, List[str]]) -> Callable[[Request, Exception], Awaitable[Response]]:
    """Starlette's own 404 and 405 answers as API errors (a 405 lists every method of the path)."""

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        message = {404: "no such endpoint: %s" % request.url.path,
                   405: "%s is not allowed on %s" % (request.method, request.url.path)}.get(status, "error")
        headers = {"Allow": ", ".join(methods.get(request.url.path, []))} if status == 405 else None
        return error_response(status, webapi.error_body(status, message), headers)

    return http_error


def create_app(backend: Any, tokens: Optional[Tokens] = None, max_body: int = DEFAULT_MAX_BODY,
               cors_origin: Optional[str] = None, close_backend: bool = False) -> Starlette:
    """The service as an ASGI app over ``backend`` (an asyncio backend: every call a coroutine).

    ``tokens`` (:class:`~analytics.service.auth.Tokens`) turns the token checks
    on; without any, every request is allowed.  ``max_body`` bounds a JSON body
    (NDJSON streams are read line by line).  ``cors_origin`` lets one browser
    origin call the API.  With ``close_backend`` the app closes the backend
    when it shuts down (``aclose()``).
    """
    api = Api(backend, max_body)
    document = openapi.document()

    async def spec(request: Request) -> Response:
        return JSON(document)

    async def docs(request: Request) -> Response:
        return HTMLResponse(openapi.page(document))

    table: List[Tuple[str, str, Handler, Optional[str]]] = [
        ("/v1/events", "POST", api.post_events, "write"),
        ("/v1/counters", "POST", api.post_counters, "write"),
        ("/v1/counters", "GET", api.get_counters, "read"),
        ("/v1/counters", "PUT", api.put_counters, "write"),
        ("/v1/days", "PUT", api.put_days, "write"),
        ("/v1/days", "GET", api.get_days, "read"),
        ("/v1/sync", "POST", api.post_sync, "write"),
        ("/v1/series", "GET", api.get_series, "read"),
        ("/v1/series", "POST", api.post_series, "read"),
        ("/v1/counts", "GET", api.get_counts, "read"),
        ("/v1/counts", "POST", api.post_counts, "read"),
        ("/v1/uids", "GET", api.get_uids, "read"),
        ("/v1/metrics", "GET", api.get_metrics, "read"),
        ("/v1/data", "DELETE", api.delete_data, "admin"),
        ("/healthz", "GET", api.healthz, None),
        ("/v1/openapi.json", "GET", spec, None),
        ("/docs", "GET", docs, None),
    ]
    routes = [Route(path, guarded(handler, tokens, scope), methods=[method]) for path, method, handler, scope in table]
    # The dashboard's pages need no token: they hold no data, and fetch all they show from /v1/ with one.
    pages = dashboard.routes()
    routes += pages
    middleware = []
    if cors_origin:
        middleware.append(Middleware(CORSMiddleware, allow_origins=[cors_origin],
                                     allow_methods=["GET", "POST", "PUT", "DELETE"],
                                     allow_headers=["Authorization", "Content-Type"]))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if close_backend:
                await backend.aclose()

    methods: Dict[str, List[str]] = {}
    for path, method, _, _ in table:
        methods.setdefault(path, []).extend(["GET", "HEAD"] if method == "GET" else [method])
    methods.update((page.path, ["GET", "HEAD"]) for page in pages)
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                     exception_handlers={HTTPException: http_errors(methods)})

