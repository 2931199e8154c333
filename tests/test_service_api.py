"""API v1 of ``analytics serve``, over real HTTP to a real process in front of real Redis.

Tokens and scopes on every endpoint, every kind of error answer (400s leave
every Redis host unchanged), the shapes of the answers, NDJSON semantics, the
OpenAPI document and the docs page, CORS, and that tokens never reach the log.
"""
import asyncio
import datetime
import hashlib
import json
import os
import subprocess
import sys

import httpx
import pytest

import compat_replay as cr
from analytics.aio.backends.http import HTTP as AsyncHTTP
from analytics.backends.http import HTTP
from servers import RedisServer, free_port
from service_servers import ROOT, Service, serve_settings

TOKENS = {"read": "r-token-0a1b2c", "write": "w-token-3d4e5f", "admin": "a-token-6a7b8c"}
ORIGIN = "http://dashboard.example.test"
DBS = (1, 2)
MAX_BODY = 65536


@pytest.fixture(scope="module")
def redis():
    server = RedisServer().start()
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def service(redis):
    settings = {"hosts": ["%s/%d" % (redis.url, db) for db in DBS]}
    args = ["--max-body", str(MAX_BODY), "--cors-origin", ORIGIN]
    for scope, token in TOKENS.items():
        args += ["--token", "%s:%s" % (scope, token)]
    started = serve_settings(settings, *args)
    yield started
    started.stop()


@pytest.fixture(scope="module")
def http():
    """One client for the module: each httpx.request() would build its own, SSL context and all."""
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture
def api(service, redis):
    """A client with the admin token, on emptied databases."""
    redis.client().flushall()
    with httpx.Client(base_url=service.url, headers=auth("admin"), timeout=10) as client:
        yield client


def auth(scope):
    return {"Authorization": "Bearer %s" % TOKENS[scope]}


def dump(redis):
    return [cr.dump_host(redis.client(db)) for db in DBS]


# -- access ----------------------------------------------------------------------

# (method, path, request options, the scope it needs): written out, not read from the app.
ENDPOINTS = [
    ("POST", "/v1/events", {"json": {"uid": "u", "metric": "m", "date": "2026-11-23"}}, "write"),
    ("POST", "/v1/counters", {"json": {"uid": "u", "metric": "m"}}, "write"),
    ("GET", "/v1/counters", {}, "read"),
    ("PUT", "/v1/counters", {"json": {"counts": [["u", "m", 3]]}}, "write"),
    ("PUT", "/v1/days", {"json": {"uid": "u", "metric": "m", "date": "2026-11-23", "count": 2}}, "write"),
    ("GET", "/v1/days", {}, "read"),
    ("POST", "/v1/sync", {"json": {"uid": "u", "metric": "m", "from": "2026-11-01", "to": "2026-11-30"}}, "write"),
    ("GET", "/v1/series", {"params": {"uid": "u", "metric": "m", "from": "2026-11-01"}}, "read"),
    ("POST", "/v1/series", {"json": {"pairs": [["u", "m"]], "from": "2026-11-01"}}, "read"),
    ("GET", "/v1/counts", {"params": {"uid": "u", "metric": "m"}}, "read"),
    ("POST", "/v1/counts", {"json": {"pairs": [["u", "m"]]}}, "read"),
    ("GET", "/v1/uids", {}, "read"),
    ("GET", "/v1/metrics", {"params": {"uid": "u"}}, "read"),
    ("DELETE", "/v1/data", {"params": {"confirm": "_analytics"}}, "admin"),
]
ALLOWED = {"read": {"read"}, "write": {"read", "write"}, "admin": {"read", "write", "admin"}}


@pytest.mark.parametrize("method, path, options, needed", ENDPOINTS, ids=["%s %s" % e[:2] for e in ENDPOINTS])
def test_every_endpoint_checks_the_token_and_its_scope(http, service, redis, method, path, options, needed):
    url = service.url + path
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": TOKENS["admin"]},
                    {"Authorization": "Basic " + TOKENS["admin"]}):
        answer = http.request(method, url, headers=headers, **options)
        assert answer.status_code == 401, (headers, answer.text)
        assert answer.headers["www-authenticate"] == "Bearer"
        assert answer.json()["error"]["status"] == 401
    for scope in TOKENS:
        before = dump(redis)
        answer = http.request(method, url, headers=auth(scope), **options)
        if needed in ALLOWED[scope]:
            assert answer.status_code == 200, (scope, answer.text)
        else:
            assert answer.status_code == 403, (scope, answer.text)
            assert answer.json()["error"]["message"].startswith("this token's scope is %r" % scope)
            assert dump(redis) == before


@pytest.mark.parametrize("path", ["/healthz", "/v1/openapi.json", "/docs"])
def test_public_endpoints_need_no_token(service, path):
    assert httpx.get(service.url + path).status_code == 200


def test_tokens_never_reach_the_log(service, api):
    api.get("/v1/uids")
    httpx.get(service.url + "/v1/uids", headers={"Authorization": "Bearer wrong-secret-xyz"})
    log = service.output()
    assert "GET /v1/uids" in log or log == "" or "analytics API v1" in log
    for token in list(TOKENS.values()) + ["wrong-secret-xyz"]:
        assert token not in log


def test_tokens_file_with_hashes_and_env_tokens(http, redis, tmp_path):
    hashed = hashlib.sha256(b"only-its-hash-is-stored").hexdigest()
    path = tmp_path / "tokens.txt"
    path.write_text("# tokens of the dashboards\n\nread:sha256:%s\nwrite:plain-write-token\n" % hashed)
    from_file = serve_settings({"hosts": [redis.url + "/3"]}, "--tokens-file", str(path))
    from_env = serve_settings({"hosts": [redis.url + "/3"]}, env={"ANALYTICS_TOKENS": "read:env-one,admin:env-two"})
    try:
        def status(service, method, path, token, **options):
            return http.request(method, service.url + path, headers={"Authorization": "Bearer " + token},
                                 **options).status_code

        event = {"json": {"uid": "u", "metric": "m"}}
        assert status(from_file, "GET", "/v1/uids", "only-its-hash-is-stored") == 200
        assert status(from_file, "POST", "/v1/events", "only-its-hash-is-stored", **event) == 403
        assert status(from_file, "GET", "/v1/uids", hashed) == 401
        assert status(from_file, "POST", "/v1/events", "plain-write-token", **event) == 200
        assert status(from_env, "GET", "/v1/uids", "env-one") == 200
        assert status(from_env, "DELETE", "/v1/data", "env-one", params={"confirm": "_analytics"}) == 403
        assert status(from_env, "DELETE", "/v1/data", "env-two", params={"confirm": "_analytics"}) == 200
        assert status(from_env, "GET", "/v1/uids", "plain-write-token") == 401
        # CORS is off unless asked for.
        assert "access-control-allow-origin" not in httpx.get(
            from_file.url + "/healthz", headers={"Origin": ORIGIN}).headers
    finally:
        from_file.stop()
        from_env.stop()


def run_serve(*args, env=None):
    environ = dict(os.environ, **(env or {}))
    environ.pop("ANALYTICS_TOKENS", None)
    return subprocess.run([sys.executable, "-m", "analytics", "serve", *args], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=30)


def test_no_token_means_loopback_only(redis):
    refused = run_serve("--url", redis.url, "--host", "0.0.0.0", "--port", str(free_port()))
    assert refused.returncode == 2
    assert "refusing to listen on 0.0.0.0 without a token" in refused.stderr
    bad = run_serve("--url", redis.url, "--token", "root:very-secret-value", "--port", str(free_port()))
    assert bad.returncode == 2
    assert "--token #1" in bad.stderr and "very-secret-value" not in bad.stderr + bad.stdout
    opened = Service(["--url", redis.url + "/3", "--no-auth"], host="0.0.0.0")
    opened.start()
    try:
        answer = httpx.get("http://127.0.0.1:%d/v1/uids" % opened.port)
        assert answer.status_code == 200 and answer.json() == {"uids": [], "cursor": "0"}
    finally:
        opened.stop()


def test_cors_allows_the_configured_origin_only(service):
    preflight = httpx.options(service.url + "/v1/series", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    other = httpx.get(service.url + "/healthz", headers={"Origin": "http://elsewhere.test"})
    assert "access-control-allow-origin" not in other.headers


# -- writing and reading ---------------------------------------------------------------

def test_events_one_object_many_and_ndjson(api):
    one = api.post("/v1/events", json={"uid": "user:1", "metric": ["a", "b"], "date": "2026-11-23", "inc": 3})
    assert one.json() == {"tracked": 2, "counts": [[3, 3, 3, 3], [3, 3, 3, 3]]}
    many = api.post("/v1/events", json=[{"uid": ["user:1", "user:2"], "metric": "a", "date": "2026-11-24"},
                                        {"uid": 7, "metric": "a", "date": "2026-11-24", "inc": 5}])
    assert many.json() == {"tracked": 3}
    lines = '{"uid": "user:1", "metric": "a", "date": "2026-11-25"}\n["user:2", "a", "2026-11-25", 4]\n'
    streamed = api.post("/v1/events", content=lines, headers={"Content-Type": "application/x-ndjson"})
    assert streamed.json() == {"tracked": 2}
    series = api.get("/v1/series", params={"uid": ["user:1", "user:2", "7"], "metric": "a", "group_by": "day",
                                           "from": "2026-11-23", "limit": 3})
    assert series.json() == {"group_by": "day", "series": [
        {"uid": "user:1", "metric": "a", "points": [["2026-11-23", 3], ["2026-11-24", 1], ["2026-11-25", 1]],
         "total": 5},
        {"uid": "user:2", "metric": "a", "points": [["2026-11-23", 0], ["2026-11-24", 1], ["2026-11-25", 4]],
         "total": 5},
        {"uid": "7", "metric": "a", "points": [["2026-11-23", 0], ["2026-11-24", 5], ["2026-11-25", 0]],
         "total": 5}]}


def test_a_bad_event_anywhere_in_a_json_array_writes_nothing(api, redis):
    api.post("/v1/events", json={"uid": "seed", "metric": "m", "date": "2026-11-23"})
    before = dump(redis)
    events = [{"uid": "u%d" % i, "metric": "m", "date": "2026-11-23"} for i in range(999)]
    events.append({"uid": "u", "metric": "m", "date": "2026-11-23", "inc": 1.5})
    answer = api.post("/v1/events", json=events)
    assert answer.status_code == 400
    assert answer.json()["error"] == {"status": 400, "message": "events[999]: inc_amt must be an int, got 1.5",
                                      "type": "TypeError", "field": "inc", "index": 999}
    assert dump(redis) == before


def test_ndjson_names_the_bad_line_and_keeps_earlier_chunks(api):
    lines = ['["u", "m", "2026-11-23"]'] * 5 + ['["u", "", "2026-11-23"]'] + ['["u", "m", "2026-11-23"]'] * 3
    answer = api.post("/v1/events", params={"chunk_size": 2}, content="\n".join(lines),
                      headers={"Content-Type": "application/x-ndjson"})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["line"], error["tracked"], error["type"], error["field"]) == (6, 4, "ValueError", "metric")
    assert error["message"].startswith("events[5]: metric must not be empty")
    assert "line 6" in error["message"]
    assert api.get("/v1/counts", params={"uid": "u", "metric": "m"}).json() == {
        "counts": [{"uid": "u", "metric": "m", "count": 4}]}
    broken = api.post("/v1/events", content='["u", "m", "2026-11-23"]\n{not json\n',
                      headers={"Content-Type": "application/x-ndjson"})
    assert broken.status_code == 400 and broken.json()["error"]["line"] == 2


def test_series_formats_and_ranges(api):
    for day, inc in (("2026-11-23", 2), ("2026-11-30", 5), ("2026-12-02", 1)):
        api.post("/v1/events", json={"uid": "user:1", "metric": "views", "date": day, "inc": inc})
    query = {"uid": "user:1", "metric": "views", "group_by": "week", "from": "2026-11-25", "to": "2026-12-08"}
    assert api.get("/v1/series", params=query).json()["series"][0]["points"] == [
        ["2026-11-23", 2], ["2026-11-30", 6], ["2026-12-07", 0]]
    csv = api.get("/v1/series", params=dict(query, format="csv"))
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text == ("date,uid,metric,count\n2026-11-23,user:1,views,2\n2026-11-30,user:1,views,6\n"
                        "2026-12-07,user:1,views,0\n")
    rows = api.get("/v1/series", params=dict(query, format="rows", group_by="MONTH"))
    assert rows.json() == [{"date": "2026-11-01", "uid": "user:1", "metric": "views", "count": 7},
                           {"date": "2026-12-01", "uid": "user:1", "metric": "views", "count": 1}]
    posted = api.post("/v1/series", json={"pairs": [["user:1", "views"], [1, "views"]], "from": "2026-11-30",
                                          "limit": 2, "group_by": "day"})
    assert posted.json() == {"group_by": "day", "series": [
        {"uid": "user:1", "metric": "views", "points": [["2026-11-30", 5], ["2026-12-01", 0]], "total": 5},
        {"uid": "1", "metric": "views", "points": [["2026-11-30", 0], ["2026-12-01", 0]], "total": 0}]}
    assert api.get("/v1/counts", params={"uid": "user:1", "metric": "views", "from": "2026-11-24",
                                         "to": "2026-12-31"}).json()["counts"][0]["count"] == 6


def test_corrections_syncs_counters_listings_and_clearing(api):
    api.post("/v1/events", json={"uid": "user:1", "metric": "a", "date": "2026-11-23", "inc": 2})
    put = api.put("/v1/days", json={"uid": "user:1", "metric": ["a", "b"], "date": "2026-11-23", "count": 10})
    assert put.json() == {"results": [[0], [1]]}
    assert api.get("/v1/counts", params={"uid": "user:1", "metric": ["a", "b"]}).json()["counts"] == [
        {"uid": "user:1", "metric": "a", "count": 10}, {"uid": "user:1", "metric": "b", "count": 10}]
    api.put("/v1/days", json={"uid": "user:1", "metric": "a", "date": "2026-11-24", "count": 4, "sync_agg": False})
    assert api.post("/v1/sync", json={"uid": "user:1", "metric": "a", "from": "2026-11-01", "to": "2026-11-30",
                                      "buckets": "month"}).json() == {"synced": "month"}
    assert api.get("/v1/series", params={"uid": "user:1", "metric": "a", "group_by": "month",
                                         "from": "2026-11-01", "limit": 1}).json()["series"][0]["total"] == 14
    assert api.post("/v1/counters", json={"uid": "user:2", "metric": "logins", "inc": 3}).json() == {"count": 3}
    assert sorted(set(walk(api, "/v1/uids", "uids", prefix="user:"))) == ["user:1", "user:2"]
    assert api.get("/v1/metrics", params={"uid": "user:1"}).json() == {"metrics": ["a", "b"]}
    days = walk(api, "/v1/days", "days", uid_prefix="user:1")
    assert sorted(map(json.dumps, days)) == sorted(map(json.dumps, [
        {"uid": "user:1", "metric": "a", "date": "2026-11-23", "count": 10},
        {"uid": "user:1", "metric": "a", "date": "2026-11-24", "count": 4},
        {"uid": "user:1", "metric": "b", "date": "2026-11-23", "count": 10}]))
    counters = walk(api, "/v1/counters", "counters")
    assert sorted(map(json.dumps, counters)) == sorted(map(json.dumps, [
        {"uid": "user:1", "metric": "a", "count": 14}, {"uid": "user:1", "metric": "b", "count": 10},
        {"uid": "user:2", "metric": "logins", "count": 3}]))
    assert api.delete("/v1/data", params={"confirm": "_analytics"}).json() == {"cleared": "_analytics"}
    assert walk(api, "/v1/uids", "uids") == []


def test_counts_are_set_as_arrays_or_objects_through_the_http_backend_too(api, service):
    api.post("/v1/events", json={"uid": "user:1", "metric": "a", "date": "2026-11-23", "inc": 2})
    put = api.put("/v1/counters", json={"counts": [["user:1", "a", 40], {"uid": "user:2", "metric": "b", "count": 7}]})
    assert put.json() == {"set": 2}
    assert api.post("/v1/counts", json={"pairs": [["user:1", "a"], ["user:2", "b"]]}).json()["counts"] == [
        {"uid": "user:1", "metric": "a", "count": 40}, {"uid": "user:2", "metric": "b", "count": 7}]
    # The day it counted is left as it was.
    assert api.get("/v1/counts", params={"uid": "user:1", "metric": "a", "from": "2026-11-23",
                                         "to": "2026-11-23"}).json()["counts"][0]["count"] == 2
    backend = HTTP({"url": service.url, "token": TOKENS["write"]})
    try:
        assert backend.set_counts((("user:%d" % i, "c", i) for i in range(30)), chunk_size=7) == 30
        assert backend.get_counts([("user:%d" % i, "c") for i in range(30)]) == list(range(30))
        with pytest.raises(ValueError, match=r"counts\[8\]: metric must not be None"):
            backend.set_counts([("user:%d" % i, "d", 5) for i in range(8)] + [("user:9", None, 5)], chunk_size=4)
        # As in the library: the chunks before the bad item's own are set.
        assert backend.get_counts([("user:%d" % i, "d") for i in range(9)]) == [5] * 8 + [0]
    finally:
        backend.close()


@pytest.mark.parametrize("name, args", [
    ("get_metric_by_year", ("u", "m", datetime.date(2026, 1, 1))),
    ("get_metric_by_hour", ("u", "m", datetime.date(2026, 1, 1))),
    ("track_unique", ("u", "m", "member")),
    ("get_unique_count", ("u", "m", datetime.date(2026, 1, 1), datetime.date(2026, 1, 2))),
])
def test_calls_outside_api_v1_say_so_on_both_http_backends(service, name, args):
    backend = HTTP({"url": service.url, "token": TOKENS["write"]})
    try:
        with pytest.raises(NotImplementedError, match="%s is not part of the service's API v1" % name):
            getattr(backend, name)(*args)
    finally:
        backend.close()

    async def on_asyncio():
        async with AsyncHTTP({"url": service.url, "token": TOKENS["write"]}) as twin:
            with pytest.raises(NotImplementedError, match="%s is not part of the service's API v1" % name):
                await getattr(twin, name)(*args)

    asyncio.run(on_asyncio())


def walk(api, path, key, **params):
    """Every item of a listing, page after page until the cursor is back at "0"."""
    items, cursor = [], "0"
    while True:
        page = api.get(path, params=dict(params, cursor=cursor, count=1000)).json()
        items += page[key]
        cursor = page["cursor"]
        if cursor == "0":
            return items


def test_healthz_names_every_node(service, redis):
    assert httpx.get(service.url + "/healthz").json() == {
        "status": "ok", "nodes": ["redis://127.0.0.1:%d/%d" % (redis.port, db) for db in DBS]}


# -- errors --------------------------------------------------------------------------

E = "/v1/events"
SERIES = {"uid": "u", "metric": "m", "from": "2026-11-01"}
# (method, path, request options, type, field): each must be a 400 that leaves every host as it was.
BAD = [
    ("POST", E, {"json": {"uid": "", "metric": "m"}}, "ValueError", "uid"),
    ("POST", E, {"json": {"uid": None, "metric": "m"}}, "ValueError", "uid"),
    ("POST", E, {"json": {"uid": "u", "metric": "m", "inc": "2"}}, "TypeError", "inc"),
    ("POST", E, {"json": {"uid": "u", "metric": "m", "inc": 2 ** 63}}, "ValueError", "inc"),
    ("POST", E, {"json": {"uid": "u", "metric": "m", "date": "2026-13-01"}}, "ValueError", "date"),
    ("POST", E, {"json": {"uid": "u", "metric": "m", "date": 20261101}}, "TypeError", "date"),
    ("POST", E, {"json": {"uid": "u", "metric": "m", "when": "2026-11-01"}}, "TypeError", "when"),
    ("POST", E, {"json": {"metric": "m"}}, "TypeError", "uid"),
    ("POST", E, {"json": [{"uid": "u", "metric": "m"}, {"uid": "u", "metric": {"a": 1}}]}, "TypeError", "metric"),
    ("POST", E, {"json": [{"uid": "u", "metric": "m"}, "u"]}, "TypeError", "body"),
    ("POST", E, {"json": "u"}, "TypeError", "body"),
    ("POST", E, {"content": b"{\"uid\": ", "headers": {"Content-Type": "application/json"}}, "ValueError", "body"),
    ("POST", E, {"content": b"[" * 60000, "headers": {"Content-Type": "application/json"}}, "ValueError", "body"),
    ("POST", E, {"content": b"\xff\xfe{}", "headers": {"Content-Type": "application/json"}}, "ValueError", "body"),
    ("POST", E, {"params": {"chunk_size": 0}, "content": b"[\"u\", \"m\", null]\n",
                 "headers": {"Content-Type": "application/x-ndjson"}}, "ValueError", "chunk_size"),
    ("POST", "/v1/counters", {"json": {"uid": "u"}}, "TypeError", "metric"),
    ("POST", "/v1/counters", {"json": {"uid": ["a", "b"], "metric": "m"}}, "TypeError", "uid"),
    ("PUT", "/v1/days", {"json": {"uid": "u", "metric": "m", "date": "2026-11-01", "count": True}}, "TypeError",
     "count"),
    ("PUT", "/v1/days", {"json": {"uid": "u", "metric": "m", "count": 1}}, "TypeError", "date"),
    ("POST", "/v1/sync", {"json": {"uid": "u", "metric": "m", "from": "2026-11-02", "to": "2026-11-01"}},
     "ValueError", "to"),
    ("POST", "/v1/sync", {"json": {"uid": "u", "metric": "m", "from": "2026-11-01", "to": "2026-11-02",
                                   "buckets": "year"}}, "ValueError", "buckets"),
    ("GET", "/v1/series", {"params": dict(SERIES, limit=-1)}, "ValueError", "limit"),
    ("GET", "/v1/series", {"params": dict(SERIES, limit="ten")}, "TypeError", "limit"),
    ("GET", "/v1/series", {"params": dict(SERIES, group_by="year")}, "ValueError", "group_by"),
    ("GET", "/v1/series", {"params": dict(SERIES, limit=3, to="2026-11-09")}, "ValueError", "to"),
    ("GET", "/v1/series", {"params": dict(SERIES, to="2026-10-09")}, "ValueError", "to"),
    ("GET", "/v1/series", {"params": dict(SERIES, format="xml")}, "ValueError", "format"),
    ("GET", "/v1/series", {"params": dict(SERIES, frm="2026-11-01")}, "TypeError", "frm"),
    ("GET", "/v1/series", {"params": {"uid": "u", "metric": "m"}}, "TypeError", "from"),
    ("GET", "/v1/series", {"params": dict(SERIES, limit=10 ** 7)}, "ValueError", "limit"),
    ("GET", "/v1/series", {"params": dict(SERIES, **{"from": "9999-12-01", "limit": 40})}, "ValueError", None),
    ("POST", "/v1/sync", {"json": {"uid": "u", "metric": "m", "from": "0001-01-01", "to": "9999-12-31"}},
     "ValueError", "to"),
    ("POST", E, {"params": {"chunk_size": 100001}, "content": b"[\"u\", \"m\", null]\n",
                 "headers": {"Content-Type": "application/x-ndjson"}}, "ValueError", "chunk_size"),
    ("GET", "/v1/uids", {"params": {"count": 10 ** 6}}, "ValueError", "count"),
    ("POST", "/v1/series", {"json": {"pairs": ["um"], "from": "2026-11-01"}}, "TypeError", "pairs"),
    ("POST", "/v1/series", {"json": {"pairs": [["u", "m"]], "from": "2026-11-01", "limit": 1.0}}, "TypeError",
     "limit"),
    ("GET", "/v1/counts", {"params": {"uid": "u", "metric": "m", "from": "2026-11-01"}}, "ValueError", "to"),
    ("POST", "/v1/counts", {"json": {"pairs": [["u", "m"]], "to": "2026-11-01"}}, "ValueError", "from"),
    ("POST", "/v1/series", {"json": {"pairs": [], "from": "2000-01-01", "to": "6830-01-01", "group_by": "day"}},
     "ValueError", "limit"),
    # 54 pairs over 2,600 years: 1.7 million fields, in either order (the library swaps a reversed range).
    ("GET", "/v1/counts", {"params": {"uid": ["u%d" % i for i in range(18)], "metric": ["a", "b", "c"],
                                      "from": "0048-02-11", "to": "2684-12-26"}}, "ValueError", "pairs"),
    ("GET", "/v1/counts", {"params": {"uid": ["u%d" % i for i in range(18)], "metric": ["a", "b", "c"],
                                      "from": "2684-12-26", "to": "0048-02-11"}}, "ValueError", "pairs"),
    ("GET", "/v1/uids", {"params": {"count": 0}}, "ValueError", "count"),
    ("PUT", "/v1/counters", {"json": [["u", "m", 3]]}, "TypeError", "body"),
    ("PUT", "/v1/counters", {"json": {"counts": "u,m,3"}}, "TypeError", "counts"),
    ("PUT", "/v1/counters", {"json": {"counts": [["u", "m", 3], ["u", "m", 2 ** 63]]}}, "ValueError", "counts"),
    ("PUT", "/v1/counters", {"json": {"counts": [["u", "m", 3], {"uid": "u", "metric": "m"}]}}, "TypeError",
     "count"),
    ("PUT", "/v1/counters", {"json": {"counts": [["u", "m", 3], ["", "m", 1]]}}, "ValueError", "counts"),
    ("GET", "/v1/uids", {"params": {"cursor": "zzz"}}, "ValueError", "cursor"),
    ("GET", "/v1/days", {"params": {"cursor": "9-0"}}, "ValueError", "cursor"),
    ("GET", "/v1/metrics", {}, "TypeError", "uid"),
    ("GET", "/v1/metrics", {"params": {"uid": ["a", "b"]}}, "TypeError", "uid"),
    ("DELETE", "/v1/data", {"params": {"confirm": "_analytics:"}}, "ValueError", "confirm"),
    ("DELETE", "/v1/data", {}, "ValueError", "confirm"),
]


@pytest.mark.parametrize("method, path, options, kind, field", BAD, ids=["%s %s %d" % (b[0], b[1], i)
                                                                         for i, b in enumerate(BAD)])
def test_bad_input_is_a_400_that_writes_nothing(api, redis, method, path, options, kind, field):
    api.post("/v1/events", json={"uid": ["u", "v"], "metric": ["m", "n"], "date": "2026-11-01", "inc": 3})
    api.put("/v1/days", json={"uid": "u", "metric": "m", "date": "2026-11-02", "count": 9})
    before = dump(redis)
    answer = api.request(method, path, **options)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["status"] == 400 and error["type"] == kind and error.get("field") == field, error
    assert error["message"]
    assert dump(redis) == before


def test_other_error_answers_are_json(api, service):
    missing = api.get("/v1/nothing")
    assert (missing.status_code, missing.json()) == (404, {"error": {"status": 404,
                                                                     "message": "no such endpoint: /v1/nothing"}})
    wrong = api.patch("/v1/series")
    assert wrong.status_code == 405 and wrong.json()["error"]["status"] == 405
    assert set(wrong.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    form = api.post("/v1/counters", content=b"uid=u&metric=m",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415 and form.json()["error"]["status"] == 415
    huge = api.post("/v1/events", json=[{"uid": "u" * 100, "metric": "m"}] * (MAX_BODY // 100))
    assert huge.status_code == 413 and huge.json()["error"]["status"] == 413
    streamed = api.post("/v1/events", content=(b"x" * 1024 for _ in range(MAX_BODY // 1024 + 1)),
                        headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert walk(api, "/v1/uids", "uids") == []


def test_ndjson_bodies_stream_past_the_json_limit(api):
    line = b'["user:%d", "views", "2026-11-23"]\n'
    lines = [line % (i % 50) for i in range(4 * MAX_BODY // len(line))]
    answer = api.post("/v1/events", content=(b"".join(lines[i:i + 500]) for i in range(0, len(lines), 500)),
                      headers={"Content-Type": "application/x-ndjson"})
    assert answer.json() == {"tracked": len(lines)}
    counts = api.get("/v1/counts", params={"uid": "user:0", "metric": "views"}).json()["counts"][0]["count"]
    assert counts == len(range(0, len(lines), 50))


# -- the document --------------------------------------------------------------------

def test_openapi_document_lists_every_endpoint(service):
    doc = httpx.get(service.url + "/v1/openapi.json").json()
    assert doc["openapi"] == "3.1.0"
    served = {(method.upper(), path) for path, methods in doc["paths"].items() for method in methods}
    assert served == {(method, path) for method, path, _, _ in ENDPOINTS} | {
        ("GET", "/healthz"), ("GET", "/v1/openapi.json"), ("GET", "/docs")}
    for method, path, _, needed in ENDPOINTS:
        assert doc["paths"][path][method.lower()]["security"] == [{"bearer": [needed]}]


def test_docs_page_loads_nothing_from_elsewhere(service):
    page = httpx.get(service.url + "/docs")
    assert page.headers["content-type"].startswith("text/html")
    text = page.text.lower()
    assert "<script" not in text and "<link" not in text and "src=" not in text and "@import" not in text
    assert "http://" not in text and "https://" not in text
    for _, path, _, _ in ENDPOINTS:
        assert path in page.text
