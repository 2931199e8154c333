"""The OpenAPI 3.1 document of API v1, and the ``/docs`` page made from it (plain HTML, nothing loaded from outside)."""
import html
import json
from typing import Any, Dict, List, Optional

import analytics

DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$", "examples": ["2026-11-23"]}
NAME = {"oneOf": [{"type": "string", "minLength": 1}, {"type": "integer"}],
        "description": "A uid or metric: a text, or an int formatted as text."}
NAMES = {"oneOf": [NAME, {"type": "array", "items": NAME}],
         "description": "One uid (metric) or a list: every uid gets every metric."}
INT64 = {"type": "integer", "minimum": -(2 ** 63), "maximum": 2 ** 63 - 1}
GROUP = {"type": "string", "enum": ["day", "week", "month"], "description": "Case-insensitive; default week."}
CURSOR = {"type": "string", "description": "'0' to start; pass each answer's cursor back until it is '0'."}


def obj(properties: Dict[str, Any], required: Optional[List[str]] = None, **extra: Any) -> Dict[str, Any]:
    schema: Dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    schema.update(extra)
    return schema


def ref(name: str) -> Dict[str, str]:
    return {"$ref": "#/components/schemas/%s" % name}


ERROR = obj({"error": obj({
    "status": {"type": "integer"}, "message": {"type": "string"},
    "type": {"type": "string", "description": "The exception the library raised: TypeError, ValueError, "
                                              "HostUnavailableError, HostTimeoutError, or a redis-py error."},
    "field": {"type": "string", "description": "The field or parameter the error is about."},
    "index": {"type": "integer", "description": "The event of a JSON array that was refused."},
    "line": {"type": "integer", "description": "The NDJSON line that was refused."},
    "tracked": {"type": "integer", "description": "NDJSON: events applied before the refused line's chunk."},
    "host": {"type": "string", "description": "The Redis node that is down or did not answer in time."},
    "applied": {"type": "boolean", "description": "false: nothing was sent to that host."},
    "cause_type": {"type": "string"}, "cause": {"type": "string"},
}, ["status", "message"])}, ["error"])

SCHEMAS: Dict[str, Any] = {
    "Error": ERROR,
    "Event": obj({"uid": NAMES, "metric": NAMES, "date": dict(DATE, description="Default: today."),
                  "inc": dict(INT64, description="Default 1.")}, ["uid", "metric"]),
    "Pairs": {"type": "array", "items": {"type": "array", "items": NAME, "minItems": 2, "maxItems": 2},
              "description": "(uid, metric) pairs, in order."},
    "Series": obj({"group_by": GROUP, "series": {"type": "array", "items": obj({
        "uid": {"type": "string"}, "metric": {"type": "string"},
        "points": {"type": "array", "description": "[date, count] in date order.", "items": {
            "type": "array", "items": {"oneOf": [DATE, {"type": "integer"}]}, "minItems": 2, "maxItems": 2}},
        "total": {"type": "integer"}}, ["uid", "metric", "points", "total"])}}, ["group_by", "series"]),
    "Counts": obj({"counts": {"type": "array", "items": obj({
        "uid": {"type": "string"}, "metric": {"type": "string"}, "count": {"type": "integer"}},
        ["uid", "metric", "count"])}}, ["counts"]),
}

PARAMETERS = {
    "uid": {"name": "uid", "in": "query", "required": True, "style": "form", "explode": True,
            "schema": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
            "description": "Repeat for several uids: every uid gets every metric, uid-major."},
    "metric": {"name": "metric", "in": "query", "required": True, "style": "form", "explode": True,
               "schema": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}},
}


def query(name: str, schema: Dict[str, Any], description: str = "", needed: bool = False) -> Dict[str, Any]:
    found = {"name": name, "in": "query", "required": needed, "schema": schema}
    if description:
        found["description"] = description
    return found


def json_body(schema: Any, example: Any) -> Dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema, "example": example}}}


def answers(ok: Any, *codes: int, ok_type: str = "application/json") -> Dict[str, Any]:
    reasons = {400: "Bad input (the library's TypeError or ValueError); nothing was written.",
               401: "No token, or an unknown one.", 403: "The token's scope is not enough.",
               413: "The body is over the limit.", 415: "Another content type.",
               409: "Redis refused a command: what is stored cannot take it (a counter that would overflow, "
                    "a key of another type); the call's other commands were applied.",
               507: "Redis is out of memory and refused the writes.",
               503: "A Redis node is down or did not answer within the timeout (named in host)."}
    found: Dict[str, Any] = {"200": {"description": "Done.", "content": {ok_type: {"schema": ok}}}}
    for code in codes:
        found[str(code)] = {"description": reasons[code], "content": {"application/json": {"schema": ref("Error")}}}
    return found


READ = (400, 401, 403, 409, 503)
WRITE = (400, 401, 403, 409, 413, 415, 503, 507)


def operation(summary: str, scope: Optional[str], responses: Dict[str, Any], **extra: Any) -> Dict[str, Any]:
    found: Dict[str, Any] = {"summary": summary, "responses": responses}
    if scope:
        found["security"] = [{"bearer": [scope]}]
        found["description"] = "Needs a token of scope %s or wider." % scope
    found.update(extra)
    return found


def listing(key: str, row: Dict[str, Any]) -> Dict[str, Any]:
    return obj({key: {"type": "array", "items": row}, "cursor": {"type": "string"}}, [key, "cursor"])


PAGE = {"type": "integer", "minimum": 1, "maximum": 100000}
PAGE_PARAMETERS = [query("cursor", CURSOR), query("count", PAGE, "Keys per page (a hint)."),
                   query("uid_prefix", {"type": "string"}, "Only uids that start with this.")]


def document() -> Dict[str, Any]:
    """The OpenAPI 3.1 document of everything the service answers."""
    series_query = [PARAMETERS["uid"], PARAMETERS["metric"], query("group_by", GROUP),
                    query("from", DATE, "The first day, week or month.", needed=True),
                    query("limit", {"type": "integer", "minimum": 0}, "How many buckets (default 10)."),
                    query("to", DATE, "The last bucket, instead of limit."),
                    query("format", {"type": "string", "enum": ["json", "csv", "rows"]},
                          "json (default), csv (date,uid,metric,count rows) or rows (a flat JSON array).")]
    rows = {"type": "array", "items": obj({"date": DATE, "uid": {"type": "string"}, "metric": {"type": "string"},
                                           "count": {"type": "integer"}}, ["date", "uid", "metric", "count"])}
    series_answers = answers({"oneOf": [ref("Series"), rows]}, *READ)
    series_answers["200"]["content"]["text/csv"] = {"schema": {"type": "string"}}
    paths = {
        "/v1/events": {"post": operation(
            "Track events (track_metric for one object, track_metrics for an array or NDJSON)", "write",
            answers(obj({"tracked": {"type": "integer"}, "counts": {"type": "array", "items": {
                "type": "array", "items": {"type": "integer"}, "minItems": 4, "maxItems": 4}}}, ["tracked"]),
                *WRITE),
            parameters=[query("chunk_size", PAGE,
                              "NDJSON only: events per chunk (default 10000).")],
            requestBody={"required": True, "content": {
                "application/json": {"schema": {"oneOf": [ref("Event"), {"type": "array", "items": ref("Event")}]},
                                     "example": {"uid": "user:1234", "metric": "comments", "date": "2026-11-23",
                                                 "inc": 1}},
                "application/x-ndjson": {"schema": {"type": "string"}, "description":
                                         "One event a line: an Event object or [uid, metric, date, inc]."}}})},
        "/v1/counters": {
            "post": operation("Add to an all-time count (track_count)", "write",
                              answers(obj({"count": {"type": "integer"}}, ["count"]), *WRITE),
                              requestBody=json_body(obj({"uid": NAME, "metric": NAME, "inc": INT64}, ["uid", "metric"]),
                                                    {"uid": "user:1234", "metric": "logins", "inc": 1})),
            "put": operation("Set all-time counts (set_counts): day, week and month counts are left alone", "write",
                             answers(obj({"set": {"type": "integer"}}, ["set"]), *WRITE),
                             parameters=[query("chunk_size", PAGE, "Counts per pipeline (default 10000): an "
                                                                   "invalid one leaves the chunks before its own set.")],
                             requestBody=json_body(
                                 obj({"counts": {"type": "array", "items": {"oneOf": [
                                     {"type": "array", "items": {}, "minItems": 3, "maxItems": 3},
                                     obj({"uid": NAME, "metric": NAME, "count": INT64}, ["uid", "metric", "count"])]}}},
                                     ["counts"]),
                                 {"counts": [["user:1234", "logins", 12], {"uid": "user:5", "metric": "logins",
                                                                            "count": 3}]})),
            "get": operation("One page of all-time counters (scan_counters)", "read",
                             answers(listing("counters", obj({"uid": {"type": "string"}, "metric": {"type": "string"},
                                                              "count": {"type": "integer"}},
                                                             ["uid", "metric", "count"])), *READ),
                             parameters=PAGE_PARAMETERS)},
        "/v1/days": {
            "put": operation("Overwrite a day's count (set_metric_by_day)", "write",
                             answers(obj({"results": {"type": "array", "items": {
                                 "type": "array", "items": {"type": "integer", "enum": [0, 1]}}}}, ["results"]),
                                 *WRITE),
                             requestBody=json_body(obj({"uid": NAMES, "metric": NAMES, "date": DATE, "count": INT64,
                                                        "sync_agg": {"type": "boolean"},
                                                        "update_counter": {"type": "boolean"}},
                                                       ["uid", "metric", "date", "count"]),
                                                   {"uid": "user:1234", "metric": "comments", "date": "2026-11-23",
                                                    "count": 5})),
            "get": operation("One page of stored day counts (scan_day_counts)", "read",
                             answers(listing("days", obj({"uid": {"type": "string"}, "metric": {"type": "string"},
                                                          "date": DATE, "count": {"type": "integer"}},
                                                         ["uid", "metric", "date", "count"])), *READ),
                             parameters=PAGE_PARAMETERS)},
        "/v1/sync": {"post": operation(
            "Recompute weeks and/or months from the days (sync_agg_metric, sync_week_metric, sync_month_metric)",
            "write", answers(obj({"synced": {"type": "string"}}, ["synced"]), *WRITE),
            requestBody=json_body(obj({"uid": NAMES, "metric": NAMES, "from": DATE, "to": DATE,
                                       "buckets": {"type": "string", "enum": ["all", "week", "month"]}},
                                      ["uid", "metric", "from", "to"]),
                                  {"uid": "user:1234", "metric": "comments", "from": "2026-11-01",
                                   "to": "2026-11-30", "buckets": "all"}))},
        "/v1/series": {
            "get": operation("Series by day, week or month (get_metrics)", "read", series_answers,
                             parameters=series_query),
            "post": operation("Series of any (uid, metric) pairs (get_metrics)", "read",
                              answers(ref("Series"), *WRITE),
                              requestBody=json_body(obj({"pairs": ref("Pairs"), "from": DATE,
                                                         "limit": {"type": "integer", "minimum": 0}, "to": DATE,
                                                         "group_by": GROUP}, ["pairs", "from"]),
                                                    {"pairs": [["user:1234", "comments"]], "from": "2026-11-01",
                                                     "limit": 30, "group_by": "day"}))},
        "/v1/counts": {
            "get": operation("All-time counts, or counts of a range of days (get_counts)", "read",
                             answers(ref("Counts"), *READ),
                             parameters=[PARAMETERS["uid"], PARAMETERS["metric"],
                                         query("from", DATE, "First day (with to)."),
                                         query("to", DATE, "Last day (with from).")]),
            "post": operation("Counts of any (uid, metric) pairs (get_counts)", "read", answers(ref("Counts"), *WRITE),
                              requestBody=json_body(obj({"pairs": ref("Pairs"), "from": DATE, "to": DATE}, ["pairs"]),
                                                    {"pairs": [["user:1234", "comments"]]}))},
        "/v1/uids": {"get": operation(
            "One page of stored uids (scan_uids)", "read",
            answers(obj({"uids": {"type": "array", "items": {"type": "string"}}, "cursor": {"type": "string"}},
                        ["uids", "cursor"]), *READ),
            parameters=[query("prefix", {"type": "string"}, "Only uids that start with this."),
                        query("cursor", CURSOR), query("count", PAGE)])},
        "/v1/metrics": {"get": operation(
            "The metrics stored for a uid (get_uid_metrics)", "read",
            answers(obj({"metrics": {"type": "array", "items": {"type": "string"}}}, ["metrics"]), *READ),
            parameters=[query("uid", {"type": "string", "minLength": 1}, needed=True)])},
        "/v1/data": {"delete": operation(
            "Delete every key under the service's prefix (clear_all)", "admin",
            answers(obj({"cleared": {"type": "string"}}, ["cleared"]), *READ),
            parameters=[query("confirm", {"type": "string"}, "Must equal the service's key prefix.", needed=True)])},
        "/healthz": {"get": operation(
            "Whether every Redis node answers a PING (no token needed)", None,
            answers(obj({"status": {"const": "ok"}, "nodes": {"type": "array", "items": {"type": "string"}}},
                        ["status", "nodes"]), 503))},
        "/v1/openapi.json": {"get": operation("This document", None, answers({"type": "object"}))},
        "/docs": {"get": operation("This document as a page", None, answers({"type": "string"}, ok_type="text/html"))},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "analytics", "version": analytics.VERSION,
                 "description": "Per-object counters in Redis by day, week and month. Every error answers "
                                "{\"error\": {\"status\", \"message\", ...}}. One request reads or writes at "
                                "most 50,000 (uid, metric, bucket) values; larger ones are refused with a 400."},
        "paths": paths,
        "components": {"schemas": SCHEMAS, "securitySchemes": {"bearer": {
            "type": "http", "scheme": "bearer",
            "description": "Authorization: Bearer TOKEN; scopes read < write < admin."}}},
    }


def page(doc: Dict[str, Any]) -> str:
    """``doc`` as one readable HTML page: every endpoint, its parameters, body example and answers."""
    out = ["<!doctype html><html><head><meta charset='utf-8'><title>analytics API v1</title><style>",
           "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.4}",
           "h2{font-family:monospace;border-top:1px solid #ccc;padding-top:1em}",
           "code,pre{background:#f4f4f4;padding:0 .2em}pre{padding:.5em;overflow:auto}",
           "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2em .5em;text-align:left}",
           "</style></head><body>",
           "<h1>%s %s</h1><p>%s</p>" % (html.escape(doc["info"]["title"]), html.escape(doc["info"]["version"]),
                                        html.escape(doc["info"]["description"])),
           "<p>The machine-readable document: <a href='/v1/openapi.json'>/v1/openapi.json</a>.</p>"]
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            out.append("<h2>%s %s</h2><p>%s</p>" % (method.upper(), html.escape(path), html.escape(op["summary"])))
            if "description" in op:
                out.append("<p>%s</p>" % html.escape(op["description"]))
            if op.get("parameters"):
                out.append("<table><tr><th>parameter</th><th>required</th><th>schema</th><th>about</th></tr>")
                for item in op["parameters"]:
                    out.append("<tr><td><code>%s</code></td><td>%s</td><td><code>%s</code></td><td>%s</td></tr>" % (
                        html.escape(item["name"]), "yes" if item.get("required") else "",
                        html.escape(json.dumps(item["schema"])), html.escape(item.get("description", ""))))
                out.append("</table>")
            for kind, body in op.get("requestBody", {}).get("content", {}).items():
                example = body.get("example")
                out.append("<p>Body, <code>%s</code>%s</p>" % (html.escape(kind), ":" if example else
                                                               " - " + html.escape(body.get("description", ""))))
                if example is not None:
                    out.append("<pre>%s</pre>" % html.escape(json.dumps(example, indent=1)))
            out.append("<p>Answers: %s</p>" % ", ".join(
                "<b>%s</b> %s" % (code, html.escape(item["description"])) for code, item in op["responses"].items()))
    out.append("</body></html>")
    return "".join(out)
