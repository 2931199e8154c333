"""The ``analytics`` command line against real redis-server processes (click's CliRunner and subprocesses)."""
import collections
import datetime
import json
import os
import random
import subprocess
import sys

import pytest
from click.testing import CliRunner

from analytics import cli
from analytics.backends.redis import Redis
from servers import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DAY = datetime.date(2026, 11, 23)


def invoke(args, env_url=None, input=None):
    """Run ``analytics ARGS`` in-process; ``env_url`` is $ANALYTICS_REDIS_URL (unset when None)."""
    runner = CliRunner(env={"ANALYTICS_REDIS_URL": env_url})
    return runner.invoke(cli.cli, args, input=input, catch_exceptions=False)


@pytest.fixture
def url(flushed):
    return "redis://127.0.0.1:%d/2" % flushed.port


@pytest.fixture
def db(flushed):
    return flushed.client(2)


@pytest.fixture
def backend(url):
    instance = Redis({"hosts": [url]})
    yield instance
    instance.close()


def down_url():
    return "redis://127.0.0.1:%d/0" % free_port()


# -- track, count, series --------------------------------------------------------

def test_track_and_count(url, db):
    done = invoke(["--url", url, "track", "user:1", "comments", "--date", "2026-11-23", "--inc", "3"])
    assert (done.exit_code, done.stdout) == (0, "user:1 comments 2026-11-23: day 3, week 3, month 3, all-time 3\n")
    invoke(["--url", url, "track", "user:1", "comments", "--date", "2026-11-25"])
    assert db.get("_analytics:analy:user:1:count:comments") == "4"
    assert db.hgetall("_analytics:user:user:1:analy:26-11") == {"comments:26-11-23": "3", "comments:26-11-25": "1"}
    assert invoke(["count", "user:1", "comments"], env_url=url).stdout == "4\n"
    ranged = invoke(["count", "user:1", "comments", "--from", "2026-11-24", "--to", "2026-11-30"], env_url=url)
    assert ranged.stdout == "1\n"


def test_track_defaults_to_today(url, db):
    invoke(["--url", url, "track", "u", "m"])
    today = datetime.date.today()
    assert db.hget("_analytics:user:u:analy:%s" % today.strftime("%y-%m"), "m:%s" % today.strftime("%y-%m-%d")) == "1"


@pytest.fixture
def tracked(backend):
    backend.track_metric("user:1", "comments", DAY, inc_amt=4)
    backend.track_metric("user:1", "comments", DAY + datetime.timedelta(days=2), inc_amt=8)
    backend.track_metric("user:1", "comments", datetime.date(2026, 12, 1))
    return backend


def test_series_table_has_a_sparkline(url, tracked):
    done = invoke(["--url", url, "series", "user:1", "comments", "--from", "2026-11-23", "--limit", "4"])
    assert done.exit_code == 0
    assert done.stdout == (
        "user:1 comments by day, 2026-11-23 .. 2026-11-26: total 12\n"
        "▄▁█▁\n"
        "date        count\n"
        "2026-11-23      4\n"
        "2026-11-24      0\n"
        "2026-11-25      8\n"
        "2026-11-26      0\n")


def test_series_csv_by_week_and_month(url, tracked):
    weeks = invoke(["--url", url, "series", "user:1", "comments", "--by", "week", "--from", "2026-11-25",
                    "--to", "2026-12-02", "--format", "csv"])
    assert weeks.stdout == "date,uid,metric,count\n2026-11-23,user:1,comments,12\n2026-11-30,user:1,comments,1\n"
    months = invoke(["--url", url, "series", "user:1", "comments", "--by", "month", "--from", "2026-10-15",
                     "--to", "2026-12-31", "--format", "csv"])
    assert months.stdout == ("date,uid,metric,count\n2026-10-01,user:1,comments,0\n"
                             "2026-11-01,user:1,comments,12\n2026-12-01,user:1,comments,1\n")


def test_series_json_and_default_span_ending_today(url, backend):
    backend.track_metric("u", "m", datetime.date.today(), inc_amt=2)
    done = invoke(["--url", url, "series", "u", "m", "--format", "json"])
    series = json.loads(done.stdout)["series"]
    assert len(series) == 30
    assert series[-1] == {"date": datetime.date.today().isoformat(), "count": 2}
    assert [item["count"] for item in series[:-1]] == [0] * 29


@pytest.mark.parametrize("args, message", [
    (["--limit", "3", "--to", "2026-11-30"], "--limit or --to"),
    (["--from", "2026-11-30", "--to", "2026-11-01"], "is before --from"),
    (["--limit", "-1"], "must not be negative"),
])
def test_series_bad_spans_exit_2(url, args, message):
    done = invoke(["--url", url, "series", "u", "m", *args])
    assert done.exit_code == 2 and message in done.stderr


# -- listing ---------------------------------------------------------------------

def test_uids_and_metrics(url, backend):
    for uid in ("user:1", "user:2", "post:1"):
        backend.track_metric(uid, ["likes", "comments"], DAY)
    backend.track_count("user:3", "logins")
    assert sorted(invoke(["--url", url, "uids"]).stdout.split()) == ["post:1", "user:1", "user:2", "user:3"]
    assert sorted(invoke(["--url", url, "uids", "--prefix", "user:"]).stdout.split()) == ["user:1", "user:2", "user:3"]
    assert invoke(["--url", url, "metrics", "user:1"]).stdout == "comments\nlikes\n"
    assert invoke(["--url", url, "metrics", "nobody"]).stdout == ""


# -- export and import -----------------------------------------------------------

def test_export_writes_day_rows_then_counter_rows(url, tracked, tmp_path):
    tracked.track_count("user:2", "logins", 7)
    target = tmp_path / "dump.csv"
    done = invoke(["--url", url, "export", "-o", str(target)])
    assert done.exit_code == 0
    assert done.stderr == "exported 3 day counts and 2 counters\n"
    lines = target.read_text().splitlines()
    assert lines[0] == "uid,metric,date,count"
    assert sorted(lines[1:4]) == ["user:1,comments,2026-11-23,4", "user:1,comments,2026-11-25,8",
                                  "user:1,comments,2026-12-01,1"]
    assert sorted(lines[4:]) == ["user:1,comments,,13", "user:2,logins,,7"]


def test_export_ndjson_with_a_uid_prefix_and_a_date_range(url, tracked):
    tracked.track_metric("post:1", "likes", DAY)
    done = invoke(["--url", url, "export", "--format", "ndjson", "--uid-prefix", "user:", "--from", "2026-11-24",
                   "--to", "2026-11-30"])
    assert [json.loads(line) for line in done.stdout.splitlines()] == [
        {"uid": "user:1", "metric": "comments", "date": "2026-11-25", "count": 8},
        {"uid": "user:1", "metric": "comments", "date": None, "count": 13}]


def test_import_a_plain_events_csv_adds_up(url, backend, tmp_path):
    source = tmp_path / "events.csv"
    source.write_text("user:1,likes,2026-11-23,2\nuser:1,likes,2026-11-23,3\nuser:2,likes,2026-11-30,1\n")
    done = invoke(["--url", url, "import", str(source)])
    assert done.exit_code == 0
    assert done.stdout == "imported 3 rows: 3 day counts, 0 counters set; 0 bad rows skipped\n"
    assert backend.get_metric_by_day("user:1", "likes", DAY, limit=1)[1] == {"2026-11-23": 5}
    assert backend.get_metric_by_week("user:2", "likes", DAY, limit=2)[1] == {"2026-11-23": 0, "2026-11-30": 1}
    assert backend.get_counts([("user:1", "likes"), ("user:2", "likes")]) == [5, 1]


def test_import_reads_standard_input_and_ndjson(url, backend):
    rows = [{"uid": "u", "metric": "m", "date": "2026-11-23", "count": 2},
            {"uid": "u", "metric": "m", "date": None, "count": 10}]
    done = invoke(["--url", url, "import", "-"], input="".join(json.dumps(row) + "\n" for row in rows))
    assert done.stdout == "imported 2 rows: 1 day counts, 1 counters set; 0 bad rows skipped\n"
    assert backend.get_count("u", "m") == 10
    assert backend.get_count("u", "m", DAY, DAY) == 2


BAD_FILE = ("uid,metric,date,count\n"
            "u1,m,2026-11-23,1\n"
            "u2,m,2026-11-23,1\n"
            "u3,m,2026-11-23,1\n"
            "u4,m,2026-11-23,1\n"
            "u5,m,2026-11-23,1\n"
            "u6,m,2026-11-31,1\n"
            "u7,m,2026-11-23,1\n"
            "u8,m,,5\n")


def test_a_bad_row_stops_the_import_with_its_line_and_what_was_applied(url, backend, tmp_path):
    source = tmp_path / "bad.csv"
    source.write_text(BAD_FILE)
    done = invoke(["--url", url, "import", str(source)])
    assert done.exit_code == 2
    assert done.stderr == ("Error: line 7: date must be YYYY-MM-DD or empty (an all-time counter), "
                           "got '2026-11-31'; the 5 rows before it were applied, none after\n")
    pairs = [("u%d" % i, "m") for i in range(1, 9)]
    assert backend.get_counts(pairs) == [1, 1, 1, 1, 1, 0, 0, 0]


def test_skip_bad_reports_and_goes_on(url, backend, tmp_path):
    source = tmp_path / "bad.csv"
    source.write_text(BAD_FILE + "u9,,2026-11-23,1\nu9,m,2026-11-23,many\nu9,m\n")
    done = invoke(["--url", url, "import", "--skip-bad", str(source)])
    assert done.exit_code == 0
    assert done.stderr.splitlines() == [
        "skipped line 7: date must be YYYY-MM-DD or empty (an all-time counter), got '2026-11-31'",
        "skipped line 10: metric must be a non-empty text, got ''",
        "skipped line 11: count must be an integer, got 'many'",
        "skipped line 12: expected 4 fields (uid,metric,date,count), got 2"]
    assert done.stdout == "imported 7 rows: 6 day counts, 1 counters set; 4 bad rows skipped\n"
    assert backend.get_counts([("u%d" % i, "m") for i in range(1, 10)]) == [1, 1, 1, 1, 1, 0, 1, 5, 0]


def test_a_bad_ndjson_row_names_its_line(url, tmp_path):
    source = tmp_path / "bad.ndjson"
    source.write_text('{"uid": "u", "metric": "m", "date": null, "count": 1}\n{"uid": "u"}\n')
    done = invoke(["--url", url, "import", str(source)])
    assert done.exit_code == 2 and done.stderr.startswith("Error: line 2: expected an object with the keys")


def events_for_round_trip(count, seed=10):
    rng = random.Random(seed)
    uids = ["user:%d" % i for i in range(120)]
    names = ["metric%d" % i for i in range(5)]
    # Late December to February: weeks that run into January, two years' hashes.
    days = [datetime.date(2025, 12, 10) + datetime.timedelta(days=i) for i in range(70)]
    return [(rng.choice(uids), rng.choice(names), rng.choice(days), rng.randint(1, 3)) for _ in range(count)]


@pytest.mark.cluster
def test_export_import_round_trip_from_three_hosts_into_a_cluster(three_hosts, cluster, tmp_path):
    events = events_for_round_trip(100000)
    source = Redis(three_hosts, prefix="src")
    source.track_metrics(events)
    counter_only = [("user:%d" % i, "logins") for i in range(50)]
    for uid, name in counter_only:
        source.track_count(uid, name, 3)
    source.track_count("user:1", "metric1", 1000)
    settings_file = tmp_path / "source.json"
    settings_file.write_text(json.dumps({"settings": three_hosts, "prefix": "src"}))
    dump = tmp_path / "dump.csv"
    exported = invoke(["--settings", str(settings_file), "export", "-o", str(dump)])
    assert exported.exit_code == 0, exported.output
    imported = invoke(["--cluster", cluster.url(0), "--prefix", "dst", "import", str(dump)])
    assert imported.exit_code == 0, imported.output

    target = Redis({"cluster": cluster.url(0)}, prefix="dst")
    days = collections.Counter()
    totals = collections.Counter()
    for uid, name, day, amount in events:
        days[uid, name, day] += amount
        totals[uid, name] += amount
    for pair in counter_only:
        totals[pair] += 3
    totals["user:1", "metric1"] += 1000
    pairs = sorted(totals)
    assert target.get_counts(pairs) == [totals[pair] for pair in pairs]
    first = datetime.date(2025, 12, 1)
    by_day = target.get_metrics(pairs, first, limit=90, group_by="day")
    for (uid, name), (_, counts) in zip(pairs, by_day):
        assert counts == {day.isoformat(): days[uid, name, day]
                          for day in (first + datetime.timedelta(days=i) for i in range(90))}
    for group, limit in (("week", 14), ("month", 4)):
        assert target.get_metrics(pairs, first, limit=limit, group_by=group) == \
            source.get_metrics(pairs, first, limit=limit, group_by=group)
    assert target.get_count("user:7", "metric2", datetime.date(2025, 12, 20), datetime.date(2026, 2, 5)) == \
        sum(amount for (uid, name, day), amount in days.items()
            if (uid, name) == ("user:7", "metric2") and datetime.date(2025, 12, 20) <= day <= datetime.date(2026, 2, 5))
    source.close()
    target.close()


def test_importing_counters_brings_them_to_the_exported_value(url, backend, tmp_path):
    backend.track_metric("u", "m", DAY, inc_amt=5)
    source = tmp_path / "counters.csv"
    source.write_text("uid,metric,date,count\nu,m,,3\nv,m,,4\n")
    done = invoke(["--url", url, "import", str(source)])
    assert done.stdout == "imported 2 rows: 0 day counts, 2 counters set; 0 bad rows skipped\n"
    assert backend.get_counts([("u", "m"), ("v", "m")]) == [3, 4]


# -- administration --------------------------------------------------------------

def test_clear_refuses_without_yes_and_counts_what_it_deletes(url, backend, db):
    backend.track_metric(["a", "b"], "m", DAY)
    db.set("other:1", "x")
    refused = invoke(["--url", url, "clear"])
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    assert db.dbsize() == 7
    done = invoke(["--url", url, "clear", "--yes"])
    assert (done.exit_code, done.stdout) == (0, "deleted 6 keys under the prefix '_analytics'\n")
    assert db.keys() == ["other:1"]


def test_check_reports_every_host(flushed, three_hosts):
    backend = Redis(three_hosts)
    backend.track_metric(["a", "b", "c", "d"], "m", DAY)
    version = flushed.client().info("server")["redis_version"]
    urls = ["redis://127.0.0.1:%d/%d" % (flushed.port, db) for db in (3, 4, 5)]
    args = [item for url in urls for item in ("--url", url)]
    done = invoke(args + ["check"])
    assert done.exit_code == 0
    lines = done.stdout.splitlines()
    assert lines[0] == "settings: ok (analytics.backends.redis.Redis, prefix '_analytics')"
    keys = [flushed.client(db).dbsize() for db in (3, 4, 5)]
    assert sum(keys) == 12
    assert lines[1:] == ["%s: Redis %s, %d keys under the prefix" % (url, version, n) for url, n in zip(urls, keys)]
    backend.close()


@pytest.mark.cluster
def test_check_on_a_cluster_names_each_primary(cluster):
    done = invoke(["--cluster", cluster.url(0), "check"])
    assert done.exit_code == 0
    assert sorted(line.split(":")[2] for line in done.stdout.splitlines()[1:]) == \
        sorted(str(port) for port in cluster.primary_ports())


def test_demo_runs_on_the_configured_redis_and_clears_what_it_wrote(url, db):
    db.set("mine", "1")
    commands_before = db.info("commandstats").get("cmdstat_hincrby", {}).get("calls", 0)
    done = invoke(["demo"], env_url=url)
    assert done.exit_code == 0
    assert url in done.stdout.splitlines()[0]
    assert db.info("commandstats")["cmdstat_hincrby"]["calls"] > commands_before
    assert db.keys() == ["mine"]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="TOML settings files need Python 3.11's tomllib")
def test_settings_file_json_and_toml(flushed, tmp_path):
    hosts = {"hosts": [{"host": "127.0.0.1", "port": flushed.port, "db": 12}]}
    as_json = tmp_path / "s.json"
    as_json.write_text(json.dumps({"settings": hosts, "prefix": "j"}))
    as_toml = tmp_path / "s.toml"
    as_toml.write_text('prefix = "t"\n[[settings.hosts]]\nhost = "127.0.0.1"\nport = %d\ndb = 12\n' % flushed.port)
    invoke(["--settings", str(as_json), "track", "u", "m", "--date", "2026-11-23"])
    invoke(["--settings", str(as_toml), "track", "u", "m", "--date", "2026-11-23", "--inc", "2"])
    assert flushed.client(12).get("j:analy:u:count:m") == "1"
    assert flushed.client(12).get("t:analy:u:count:m") == "2"


# -- exit statuses ---------------------------------------------------------------

COMMANDS = [["track", "u", "m"], ["count", "u", "m"], ["series", "u", "m"], ["uids"], ["metrics", "u"],
            ["export"], ["import", "-"], ["clear", "--yes"], ["check"]]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: args[0])
def test_nothing_configured_exits_2_saying_how_to_configure(args):
    done = invoke(args, input="")
    assert done.exit_code == 2
    assert done.stderr.startswith("Error: no Redis configured: pass --url") and "ANALYTICS_REDIS_URL" in done.stderr


@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: args[0])
def test_a_redis_that_does_not_answer_exits_1_naming_the_host(args):
    url = down_url()
    done = invoke(["--url", url] + args, input="u,m,2026-11-23,1\n")
    assert done.exit_code == 1
    assert done.stderr.startswith("Error: Redis host %s" % url) and done.stderr.count("\n") == 1


@pytest.mark.parametrize("args, message", [
    (["--url", "redis://127.0.0.1:1/0", "--cluster", "redis://127.0.0.1:2", "count", "u", "m"], "only one of"),
    (["--url", "redis://127.0.0.1:1/0", "count", "u", ""], "metric must not be empty"),
    (["--url", "redis://127.0.0.1:1/0", "count", "u", "m", "--from", "2026-11-01"], "both --from and --to"),
    (["--url", "redis://127.0.0.1:1/0", "track", "u", "m", "--inc", str(2 ** 63)], "64-bit"),
    (["--url", "redis://127.0.0.1:1/x", "count", "u", "m"], "db"),
    (["--settings", "/nonexistent/settings.json", "count", "u", "m"], "settings file"),
    (["--url", "redis://127.0.0.1:1/0", "--timeout", "-1", "count", "u", "m"], "--timeout"),
])
def test_bad_input_exits_2_on_one_line(args, message):
    done = invoke(args)
    assert done.exit_code == 2
    assert done.stderr.startswith("Error: ") and message in done.stderr and done.stderr.count("\n") == 1


def test_click_usage_errors_exit_2():
    assert invoke(["track", "u"]).exit_code == 2
    assert invoke(["series", "u", "m", "--from", "2026-13-01"]).exit_code == 2
    assert invoke(["nonsense"]).exit_code == 2


def test_a_redis_error_reply_exits_1(url, db):
    db.set("_analytics:analy:u:count:m", "not a number")
    done = invoke(["--url", url, "track", "u", "m"])
    assert done.exit_code == 1 and "not an integer" in done.stderr


def run_module(args, env_url=None):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    env.pop("ANALYTICS_REDIS_URL", None)
    if env_url:
        env["ANALYTICS_REDIS_URL"] = env_url
    return subprocess.run([sys.executable, "-m", "analytics", *args], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=60)


def test_python_m_analytics_exit_statuses_and_one_line_errors(url):
    ok = run_module(["track", "u", "m", "--date", "2026-11-23"], env_url=url)
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "u m 2026-11-23: day 1, week 1, month 1, all-time 1\n", "")
    unset = run_module(["count", "u", "m"])
    assert unset.returncode == 2 and unset.stderr.count("\n") == 1 and "Traceback" not in unset.stderr
    bad = run_module(["count", "u", ""], env_url=url)
    assert (bad.returncode, bad.stderr) == (2, "Error: metric must not be empty\n")
    down = down_url()
    failed = run_module(["count", "u", "m"], env_url=down)
    assert failed.returncode == 1 and failed.stderr.startswith("Error: Redis host %s" % down)
    assert failed.stderr.count("\n") == 1


def test_a_closed_pipe_stops_export_quietly(url, backend):
    backend.track_metrics([("u%d" % i, "m", DAY) for i in range(20000)])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])),
               ANALYTICS_REDIS_URL=url)
    process = subprocess.Popen([sys.executable, "-m", "analytics", "export"], env=env, cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline() == b"uid,metric,date,count\n"
    process.stdout.close()
    stderr = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(60) == 1
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr


# -- extending -------------------------------------------------------------------

def test_a_lazily_registered_command_joins_the_group(tmp_path, monkeypatch, url):
    (tmp_path / "extra_commands.py").write_text(
        "import click\nfrom analytics.cli import session\n\n"
        "@click.command()\ndef hello():\n"
        "    '''Say hello.'''\n"
        "    click.echo('hello from %s' % session().prefix)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(cli.LAZY_COMMANDS, "hello", "extra_commands:hello")
    assert "Say hello." in invoke(["--help"]).stdout
    done = invoke(["--url", url, "--prefix", "p", "hello"])
    assert (done.exit_code, done.stdout) == (0, "hello from p\n")


def test_progress_goes_to_stderr_only_when_it_is_a_terminal(url, backend, tmp_path):
    import pty

    backend.track_metrics([("u%d" % i, "m", DAY) for i in range(5000)])
    dump = tmp_path / "dump.csv"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])),
               ANALYTICS_REDIS_URL=url)
    for args, shown in ((["export", "-o", str(dump)], "exporting: 5000 day counts, 5000 counters"),
                        (["--prefix", "copy", "import", str(dump)], "importing")):
        leader, follower = pty.openpty()
        process = subprocess.Popen([sys.executable, "-m", "analytics", *args], env=env, cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=follower)
        os.close(follower)
        seen = b""
        while True:
            try:
                data = os.read(leader, 4096)
            except OSError:  # every writer has closed the terminal
                break
            if not data:
                break
            seen += data
        os.close(leader)
        stdout = process.stdout.read().decode()
        process.stdout.close()
        process.wait(60)
        assert process.returncode == 0 and shown in seen.decode()
        assert "exporting" not in stdout and "importing" not in stdout
    assert invoke(["--url", url, "export", "-o", str(dump)]).stderr == "exported 5000 day counts and 5000 counters\n"
