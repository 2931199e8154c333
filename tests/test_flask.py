"""The Flask integration against a real redis-server: views, ``flask analytics``, config forms, fork."""
import datetime
import json
import os

import pytest

flask = pytest.importorskip("flask")

from analytics.contrib import LazyBackend  # noqa: E402
from analytics.contrib.flask import Analytics  # noqa: E402
from analytics.errors import ConfigurationError  # noqa: E402

DAY = datetime.date(2026, 11, 23)


def make_app(**config):
    app = flask.Flask("counting")
    app.config.update(config)
    Analytics(app)

    @app.post("/like/<post>")
    def like(post):
        flask.current_app.extensions["analytics"].track_metric("post:" + post, "likes", DAY)
        return {"ok": True}

    @app.get("/likes/<post>")
    def likes(post):
        return {"likes": flask.current_app.extensions["analytics"].get_count("post:" + post, "likes")}

    return app


@pytest.fixture
def app(flushed):
    return make_app(ANALYTICS_URL="redis://127.0.0.1:%d/8" % flushed.port, ANALYTICS_PREFIX="flasktests")


def test_views_track_and_read_back_through_the_extension(app, flushed):
    client = app.test_client()
    for _ in range(2):
        assert client.post("/like/5").status_code == 200
    assert client.get("/likes/5").get_json() == {"likes": 2}
    assert sorted(flushed.client(8).keys()) == [
        "flasktests:analy:post:5:count:likes", "flasktests:user:post:5:analy:26", "flasktests:user:post:5:analy:26-11"]
    assert isinstance(app.extensions["analytics"], LazyBackend)


def test_the_analytics_dict_form_and_a_host_list_url(flushed):
    hosts = {"hosts": [{"host": "127.0.0.1", "port": flushed.port, "db": 9}]}
    dict_app = make_app(ANALYTICS={"backend": "analytics.backends.redis.Redis", "settings": hosts, "prefix": "d"})
    dict_app.test_client().post("/like/1")
    assert flushed.client(9).get("d:analy:post:1:count:likes") == "1"
    listed = make_app(ANALYTICS_URL="redis://127.0.0.1:%d/10, redis://127.0.0.1:%d/11" % (flushed.port, flushed.port))
    for post in range(20):
        listed.test_client().post("/like/%d" % post)
    sizes = [flushed.client(db).dbsize() for db in (10, 11)]
    assert sum(sizes) == 60 and all(sizes)


@pytest.mark.parametrize("config, message", [
    ({}, "no analytics Redis configured"),
    ({"ANALYTICS": {"settings": {}}, "ANALYTICS_URL": "redis://x"}, "not both"),
    ({"ANALYTICS": "redis://localhost"}, "ANALYTICS must be a dict"),
    ({"ANALYTICS_URL": "redis://localhost", "ANALYTICS_PREFIX": 3}, "ANALYTICS_PREFIX must be a str"),
    ({"ANALYTICS": {"settings": {"hosts": [{"port": "x"}]}}}, "port"),
])
def test_bad_config_raises_when_the_backend_is_first_used(config, message, monkeypatch):
    monkeypatch.delenv("ANALYTICS_REDIS_URL", raising=False)
    app = make_app(**config)
    with app.app_context(), pytest.raises(ConfigurationError, match=message):
        app.extensions["analytics"].get_count("a", "b")


def test_flask_analytics_is_the_cli_on_the_apps_backend(app):
    runner = app.test_cli_runner()
    done = runner.invoke(args=["analytics", "track", "post:2", "likes", "--date", "2026-11-23", "--inc", "4"])
    assert (done.exit_code, done.output) == (0, "post:2 likes 2026-11-23: day 4, week 4, month 4, all-time 4\n")
    done = runner.invoke(args=["analytics", "series", "post:2", "likes", "--from", "2026-11-23", "--limit", "2",
                               "--format", "json"])
    assert done.exit_code == 0
    assert json.loads(done.output) == {"uid": "post:2", "metric": "likes", "by": "day", "series": [
        {"date": "2026-11-23", "count": 4}, {"date": "2026-11-24", "count": 0}]}
    with app.app_context():
        assert app.extensions["analytics"].get_count("post:2", "likes") == 4


def test_flask_analytics_exit_statuses(app, monkeypatch):
    runner = app.test_cli_runner()
    bad = runner.invoke(args=["analytics", "count", "post:2", ""])
    assert (bad.exit_code, bad.output.strip()) == (2, "Error: metric must not be empty")
    down = make_app(ANALYTICS_URL="redis://127.0.0.1:1/0").test_cli_runner().invoke(args=["analytics", "count", "a", "b"])
    assert down.exit_code == 1 and "redis://127.0.0.1:1/0" in down.output
    monkeypatch.delenv("ANALYTICS_REDIS_URL", raising=False)
    unset = make_app().test_cli_runner().invoke(args=["analytics", "count", "a", "b"])
    assert unset.exit_code == 2 and "ANALYTICS_URL" in unset.output


def test_isolated_prefix_is_used_by_views_and_cleared(app, flushed):
    lazy = app.extensions["analytics"]
    app.test_client().post("/like/8")
    with lazy.isolated() as backend:
        app.test_client().post("/like/8")
        app.test_client().post("/like/8")
        assert backend.get_count("post:8", "likes") == 2
        test_prefix = lazy.prefix
    assert test_prefix.startswith("flasktests-test-")
    assert [key for key in flushed.client(8).keys() if key.startswith(test_prefix)] == []
    with app.app_context():
        assert lazy.get_count("post:8", "likes") == 1


def test_a_forked_worker_rebuilds_the_backend(app):
    lazy = app.extensions["analytics"]
    with app.app_context():
        parent = lazy.backend_for_process()
        lazy.track_metric("post:4", "likes", DAY)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            child = lazy.backend_for_process()
            child.track_metric("post:4", "likes", DAY, inc_amt=10)
            os.write(write, b"new" if child is not parent else b"inherited")
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as handle:
        answer = handle.read()
    os.waitpid(pid, 0)
    assert answer == b"new"
    assert lazy.backend_for_process() is parent
    assert parent.get_count("post:4", "likes") == 11
