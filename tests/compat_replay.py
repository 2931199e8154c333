"""Replays the 0.6.5 compatibility vectors (``tests/compat/*.json``) against any backend.

The vectors record what py-analytics 0.6.5 stored and returned; their format is
described in the compat README (sections 1-5).  This module decodes them,
normalises results the way they were recorded, dumps Redis hosts in the same
form, and replays a layout scenario or a query dataset against a backend that
the caller builds.  A :class:`Harness` tells the replay how to reach the hosts,
so the same vectors run on a host list (per-host dumps compared) and on Redis
Cluster (union of all hosts' contents compared, since placement differs there).

:data:`SKIPS` is the single list of entries that a POLICY correction changes:
replays skip exactly those, each with the correction it belongs to.

On Redis Cluster, for example::

    harness = Harness(backend, dump=lambda: [dump_host(c) for c in primary_clients],
                      raw_set=lambda key, value: cluster_client.set(key, value) and None,
                      per_host=False)
    replay_scenario(scenario, "three_hosts", harness)   # on emptied primaries
"""
import datetime
import functools
import json
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple

import pytest

COMPAT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "compat")
REPLAY_CONFIGS = ("three_hosts", "one_host")

#: Entry name -> "Cn: why".  Keys are a layout scenario ("name"), one op of a
#: scenario whose final dump the correction leaves intact ("name#index": the op
#: still runs, only its own result is not compared), or a query ("dataset/query").
SKIPS: Dict[str, str] = {
    # -- layout.json ------------------------------------------------------------
    "duplicate_commands_collapse_return_values#0": "C2: uids 1234 and '1234' build the same keys; each pair now reports its own reply ([1,1,1,1] then [2,2,2,2])",
    "duplicate_commands_collapse_return_values#1": "C2: the repeated metric 'x' now reports its own replies ([5,...] then [10,...])",
    "duplicate_commands_collapse_return_values#2": "C2: the repeated uid 'u' now reports its own replies (the first pair sees 1 and 11, not 2 and 12)",
    "duplicate_commands_collapse_return_values#3": "C2: the repeated metric 'z' now reports its own HSET reply ([1] then [0])",
    "inc_amt_variants": "C8: inc_amt='2' (a str) now raises TypeError and writes nothing, so metric 's' is missing from the final dump",
    "set_metric_by_day_lists_and_defaults": "C7: set_metric_by_day on 2012-12-31 and 2013-01-02 syncs the cross-year week per year (2012 part in '..:analy:12', 2013 part in '..:analy:13')",
    "set_metric_by_day_string_count": "C8: count='7' (a str) now raises TypeError and writes nothing",
    "sync_cross_year_week_double_count": "C7: the synced week 2012-12-31 is stored per year (2012 part + 2013 part), so the 2012 hash field and the week read differ",
    "sync_ranges": "C7: sync_week_metric over 2012-12-31 stores the cross-year week per year (also C8: the range reversed by two days now raises ValueError)",
    "custom_prefix_and_clear_all": "C1: clear_all deletes exactly 'myapp:'-keys on every host ('myappx:other' survives; on one host the keys go too)",
    "clear_all_default_prefix": "C1: clear_all deletes exactly '_analytics:'-keys ('_analyticsfoo' survives; on one host the keys go too)",
    "clear_all_single_char_prefix_one_host": "C1: with prefix 'a' clear_all deletes 'a:'-keys and keeps the key named 'a'",
    "clear_all_key_on_wrong_host": "C1: clear_all also deletes a prefixed key sitting on a host that is not its ring host",
    "generator_arguments": "C3: a generator of metrics is read once, so every uid gets every metric (and set_metric_by_day syncs them)",
    "odd_names": "C8: an empty uid/metric and a None uid now raise ValueError and write nothing",
    "errors_and_no_ops_in_write_calls": "C8: an int metric is one metric (now written); sync ranges ending before their start now raise ValueError",
    # -- queries.json -----------------------------------------------------------
    "main/day_limit_0_raises": "C4: limit=0 returns (set(), {})",
    "main/week_limit_0_raises": "C4: limit=0 returns (set(), {})",
    "main/month_limit_0_raises": "C4: limit=0 returns (set(), {})",
    "main/metrics_limit_0_two_ids_raises": "C4: limit=0 returns a list of empty series",
    "main/metrics_limit_0_one_id_raises": "C4: limit=0 returns a list of empty series",
    "main/count_only_start_date_is_total": "C6: exactly one of start_date/end_date raises ValueError",
    "main/count_only_end_date_is_total": "C6: exactly one of start_date/end_date raises ValueError",
    "main/count_start_none_end_set_is_total": "C6: exactly one of start_date/end_date raises ValueError",
    "main/counts_only_start_date_is_totals": "C6: exactly one of start_date/end_date raises ValueError",
    "main/count_datetimes_short_drops_last_day": "C6: datetimes count by their date, the last day is no longer dropped (8)",
    "main/count_datetimes_monthly_drops_last_day": "C6: datetimes count by their date, the last day is no longer dropped (18)",
    "main/count_date_and_datetime_raises": "C6: a date and a datetime may be mixed (returns 10)",
    "main/week_from_monday_2012_12_31": "C7: the cross-year week synced on 2012-12-31 now reads its true total (15, not 20)",
    "main/week_from_wednesday": "C7: the cross-year week synced on 2012-12-31 now reads its true total (15, not 20)",
    "main/week_long_range_70": "C7: the series includes the cross-year week of 2012-12-31, now 15 instead of 20",
    "main/metrics_week": "C7: week 2012-12-31 of user:1234/comments now reads its true total (15, not 20)",
}


@functools.lru_cache(maxsize=None)
def load(name: str) -> Dict[str, Any]:
    """One vector file (``"layout"``, ``"queries"`` or ``"ring"``), parsed once."""
    with open(os.path.join(COMPAT_DIR, name + ".json"), encoding="utf-8") as handle:
        return json.load(handle)


def decode(value: Any) -> Any:
    """A JSON argument as the Python value the original was called with (README 1.1)."""
    if isinstance(value, list):
        return [decode(item) for item in value]
    if isinstance(value, dict):
        if len(value) != 1:
            raise ValueError("not a tagged argument: %r" % (value,))
        (tag, inner), = value.items()
        if tag == "date":
            return datetime.date.fromisoformat(inner)
        if tag == "datetime":
            return datetime.datetime.fromisoformat(inner)
        if tag == "tuple":
            return tuple(decode(item) for item in inner)
        if tag == "generator":
            items = [decode(item) for item in inner]
            return (item for item in items)
        raise ValueError("unknown argument tag %r" % (tag,))
    return value


def call_args(entry: Mapping[str, Any]) -> Tuple[list, dict]:
    """Decoded ``(args, kwargs)`` of an op or query (fresh generators on every call)."""
    return decode(entry.get("args", [])), {k: decode(v) for k, v in entry.get("kwargs", {}).items()}


def normalise(value: Any) -> Any:
    """A return value in the recorded JSON form (README 1.2): sets sorted, tuples as lists."""
    if isinstance(value, (set, frozenset)):
        return sorted(normalise(item) for item in value)
    if isinstance(value, (list, tuple)):
        return [normalise(item) for item in value]
    if isinstance(value, dict):
        return {key: normalise(item) for key, item in value.items()}
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    raise TypeError("unexpected value in a result: %r" % (value,))


def dump_host(client: Any) -> Dict[str, Dict[str, Any]]:
    """Every key of one Redis database in the README 1.3 form (``client`` decodes responses)."""
    contents: Dict[str, Dict[str, Any]] = {}
    for key in client.scan_iter(count=1000):
        kind = client.type(key)
        if kind == "hash":
            contents[key] = {"type": "hash", "value": client.hgetall(key)}
        elif kind == "string":
            contents[key] = {"type": "string", "value": client.get(key)}
        else:
            raise AssertionError("key %r has type %r: the library writes only hashes and strings" % (key, kind))
    return contents


def union(dumps: List[Mapping[str, Any]]) -> Dict[str, Any]:
    """All hosts' dumps as one, for stores whose placement differs from the ring's.

    A key present on two hosts is reported as a conflict instead of being merged
    silently.
    """
    merged: Dict[str, Any] = {}
    for index, dump in enumerate(dumps):
        for key, item in dump.items():
            if key in merged:
                merged[key] = {"type": "CONFLICT", "value": [merged[key], (index, item)]}
            else:
                merged[key] = item
    return merged


@dataclass
class Harness:
    """How a replay reaches a backend's hosts.

    ``dump()`` returns the per-host dumps in host order.  With ``per_host``
    (a host list placed like 0.6.5's) they are compared host by host and
    ``raw_set`` must return the index of the host it wrote to; otherwise
    (e.g. Redis Cluster) only the union of all hosts is compared and the
    ``raw_set`` return value is ignored.  ``raw_set_on_host`` may be ``None``
    when the store has no fixed host indexes; scenarios using it then fail
    loudly instead of passing vacuously.
    """

    backend: Any
    dump: Callable[[], List[Dict[str, Any]]]
    raw_set: Callable[[str, str], Optional[int]]
    raw_set_on_host: Optional[Callable[[int, str, str], None]] = None
    per_host: bool = True

    def state(self) -> Any:
        dumps = self.dump()
        return dumps if self.per_host else union(dumps)

    def expected_state(self, hosts: List[Dict[str, Any]]) -> Any:
        return hosts if self.per_host else union(hosts)


def state_diff(actual: Any, expected: Any) -> str:
    """A short, readable account of how two states (per-host lists or one union) differ."""
    if isinstance(actual, list) and isinstance(expected, list):
        if len(actual) != len(expected):
            return "%d hosts, expected %d" % (len(actual), len(expected))
        return "; ".join("host %d: %s" % (i, state_diff(a, e)) for i, (a, e) in enumerate(zip(actual, expected)) if a != e)
    lines = []
    for key in sorted(set(actual) | set(expected)):
        if actual.get(key) != expected.get(key):
            lines.append("%r: got %r, expected %r" % (key, actual.get(key), expected.get(key)))
    return "; ".join(lines[:20]) + (" ... (%d keys differ)" % len(lines) if len(lines) > 20 else "")


def assert_state(harness: "Harness", hosts: List[Dict[str, Any]], where: str) -> None:
    actual, expected = harness.state(), harness.expected_state(hosts)
    if actual != expected:
        raise AssertionError("%s: contents differ from 0.6.5's: %s" % (where, state_diff(actual, expected)))


def _describe(entry: Mapping[str, Any]) -> str:
    return "%s(*%s, **%s)" % (entry["op"], json.dumps(entry.get("args", [])), json.dumps(entry.get("kwargs", {})))


def check_call(harness: Harness, entry: Mapping[str, Any], recorded: Mapping[str, Any], where: str) -> None:
    """Run one API call and compare it with its recorded outcome.

    An ``error`` entry must raise (any exception: the project may pick a clearer
    class) and leave every host unchanged.
    """
    args, kwargs = call_args(entry)
    method = getattr(harness.backend, entry["op"])
    if "error" in recorded:
        before = harness.state()
        try:
            value = method(*args, **kwargs)
        except Exception:
            after = harness.state()
            if after != before:
                raise AssertionError("%s: %s raised but changed the data: %s" % (
                    where, _describe(entry), state_diff(after, before)))
            return
        raise AssertionError("%s: %s returned %r; 0.6.5 raised %s" % (where, _describe(entry), value, recorded["error"]))
    value = normalise(method(*args, **kwargs))
    assert value == recorded["result"], "%s: %s returned %r, 0.6.5 returned %r" % (
        where, _describe(entry), value, recorded["result"])


def scenario_results(scenario: Mapping[str, Any], config: str) -> Mapping[str, Any]:
    return scenario["results"][config]


def replay_scenario(scenario: Mapping[str, Any], config: str, harness: Harness, honour_skips: bool = True) -> List[int]:
    """Replay a layout scenario on emptied hosts; return the indexes of ops whose result was not compared.

    Every op runs.  Results are compared except for ops listed in :data:`SKIPS`
    as ``"name#index"``; every ``snapshot`` and the final contents are compared
    exactly (README 4).  ``honour_skips=False`` replays a skipped scenario too
    (to show that the skip is needed: it must then fail).
    """
    name = scenario["name"]
    if honour_skips and name in SKIPS:
        raise ValueError("scenario %s is skipped as a whole (%s): do not replay it" % (name, SKIPS[name]))
    results = scenario_results(scenario, config)
    if len(results["op_results"]) != len(scenario["ops"]):
        raise ValueError("%s[%s]: %d ops but %d recorded results" % (
            name, config, len(scenario["ops"]), len(results["op_results"])))
    not_compared = []
    for index, (op, recorded) in enumerate(zip(scenario["ops"], results["op_results"])):
        where = "%s[%s] op %d" % (name, config, index)
        kind = op["op"]
        if kind == "snapshot":
            assert_state(harness, recorded["hosts"], where + " (snapshot)")
        elif kind == "raw_set":
            key, value = op["args"]
            host = harness.raw_set(key, value)
            if harness.per_host:
                assert host == recorded["host"], "%s: raw_set(%r) went to host %r, 0.6.5 used host %r" % (
                    where, key, host, recorded["host"])
        elif kind == "raw_set_on_host":
            if harness.raw_set_on_host is None:
                raise AssertionError(where + ": this harness cannot write to a chosen host")
            harness.raw_set_on_host(*op["args"])
        elif honour_skips and "%s#%d" % (name, index) in SKIPS:
            args, kwargs = call_args(op)
            getattr(harness.backend, kind)(*args, **kwargs)
            not_compared.append(index)
        else:
            check_call(harness, op, recorded, where)
    assert_state(harness, results["final_hosts"], "%s[%s] final" % (name, config))
    return not_compared


def seed_dataset(dataset: Mapping[str, Any], backend: Any) -> None:
    """Run a query dataset's write ops (none of them fails in 0.6.5)."""
    for op in dataset["ops"]:
        args, kwargs = call_args(op)
        getattr(backend, op["op"])(*args, **kwargs)


def query_outcome(query: Mapping[str, Any], config: str) -> Mapping[str, Any]:
    """The recorded result (or error) of a query on ``config``."""
    by_config = query.get("result_by_config")
    return by_config[config] if by_config else query


def check_query(dataset: Mapping[str, Any], query: Mapping[str, Any], config: str, harness: Harness,
                honour_skips: bool = True) -> None:
    """Run one query on an already seeded backend and compare it with the vectors."""
    key = "%s/%s" % (dataset["name"], query["name"])
    if honour_skips and key in SKIPS:
        raise ValueError("query %s is skipped (%s): do not replay it" % (key, SKIPS[key]))
    check_call(harness, query, query_outcome(query, config), "%s[%s]" % (key, config))


def scenarios(config: Optional[str] = None) -> Iterator[Mapping[str, Any]]:
    """The layout scenarios (those recorded on ``config`` when given)."""
    for scenario in load("layout")["scenarios"]:
        if config is None or config in scenario["configs"]:
            yield scenario


def queries() -> Iterator[Tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """Every ``(dataset, query)`` pair of queries.json."""
    for dataset in load("queries")["datasets"]:
        for query in dataset["queries"]:
            yield dataset, query


def _skip_marks(key: str) -> list:
    return [pytest.mark.skip(reason=SKIPS[key])] if key in SKIPS else []


def layout_params() -> Iterator[Any]:
    """``pytest.param(config, scenario)`` for every recorded run, skipped where SKIPS says."""
    for config in REPLAY_CONFIGS:
        for scenario in scenarios(config):
            name = scenario["name"]
            yield pytest.param(config, scenario, id="%s-%s" % (config, name), marks=_skip_marks(name))


def query_params() -> Iterator[Any]:
    """``pytest.param(dataset, query)`` for every query, skipped where SKIPS says."""
    for data, query in queries():
        key = "%s/%s" % (data["name"], query["name"])
        yield pytest.param(data, query, id=key, marks=_skip_marks(key))


def dataset(name: str) -> Mapping[str, Any]:
    return next(d for d in load("queries")["datasets"] if d["name"] == name)


def host_dbs(config: str) -> List[int]:
    return [host["db"] for host in load("layout")["configs"][config]["hosts"]]


def check_skips_table() -> None:
    """Every :data:`SKIPS` key names an existing entry and carries a correction id."""
    names = {s["name"] for s in scenarios()}
    ops = {"%s#%d" % (s["name"], i) for s in scenarios() for i in range(len(s["ops"]))}
    query_names = {"%s/%s" % (d["name"], q["name"]) for d, q in queries()}
    for key, reason in SKIPS.items():
        assert key in names | ops | query_names, "SKIPS names no vector entry: %r" % (key,)
        assert reason[:1] == "C" and reason.split(":")[0][1:].isdigit(), "SKIPS[%r] lacks a correction id" % (key,)


def host_list_harness(backend: Any, clients: List[Any]) -> Harness:
    """A :class:`Harness` for a backend over a host list; ``clients[i]`` reaches host ``i`` directly.

    ``raw_set`` writes through ``backend.get_backend()`` (the nydus-like client
    routes the key) and reports the host where the value then shows up, read
    back through ``clients``, not through the backend.
    """

    def raw_set(key: str, value: str) -> Optional[int]:
        backend.get_backend().set(key, value)
        holders = [index for index, client in enumerate(clients) if client.get(key) == value]
        return holders[0] if len(holders) == 1 else None

    def raw_set_on_host(index: int, key: str, value: str) -> None:
        clients[index].set(key, value)

    return Harness(backend, lambda: [dump_host(client) for client in clients], raw_set, raw_set_on_host)
