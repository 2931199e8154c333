"""The Django integration, in a real project (tests/django_project) run in subprocesses.

Each run configures Django in its own process, so no Django settings leak into
the other test modules of this session.
"""
import os
import subprocess
import sys
import uuid

import pytest

pytest.importorskip("django")
pytest.importorskip("pytest_django")

PROJECT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "django_project")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(args, url, **env):
    environ = dict(os.environ, ANALYTICS_TEST_URL=url, PYTHONPATH=os.pathsep.join(
        [ROOT, PROJECT] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])), **env)
    environ.pop("DJANGO_SETTINGS_MODULE", None)
    environ.pop("ANALYTICS_REDIS_URL", None)
    return subprocess.run([sys.executable, *args], cwd=PROJECT, env=environ, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=120)


@pytest.fixture
def url(flushed):
    return "redis://127.0.0.1:%d/7" % flushed.port


def test_views_async_views_fixture_helper_and_forked_worker_inside_django(url):
    done = run(["-m", "pytest", "django_checks.py", "-q"], url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 passed" in done.stdout


def test_manage_py_check_passes_with_good_settings(url):
    done = run(["manage.py", "check"], url)
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout


def test_manage_py_check_reports_a_bad_analytics_setting_with_the_library_message(url):
    done = run(["manage.py", "check"], url, ANALYTICS_TEST_BAD="1")
    assert done.returncode == 1
    assert "analytics.E001" in done.stderr
    assert "port" in done.stderr and "six-three-seven-nine" in done.stderr


def test_manage_py_analytics_tracks_and_prints_a_series(url, flushed):
    prefix = "manage-%s" % uuid.uuid4().hex[:8]
    tracked = run(["manage.py", "analytics", "track", "post:3", "likes", "--date", "2026-11-20", "--inc", "2"],
                  url, ANALYTICS_TEST_PREFIX=prefix)
    assert tracked.returncode == 0, tracked.stderr
    assert tracked.stdout == "post:3 likes 2026-11-20: day 2, week 2, month 2, all-time 2\n"
    done = run(["manage.py", "analytics", "series", "post:3", "likes", "--from", "2026-11-19", "--limit", "3",
                "--format", "csv"], url, ANALYTICS_TEST_PREFIX=prefix)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ("date,uid,metric,count\n2026-11-19,post:3,likes,0\n"
                           "2026-11-20,post:3,likes,2\n2026-11-21,post:3,likes,0\n")
    assert sorted(flushed.client(7).keys()) == sorted([
        prefix + ":user:post:3:analy:26-11", prefix + ":user:post:3:analy:26", prefix + ":analy:post:3:count:likes"])


def test_manage_py_analytics_exit_statuses(url):
    bad_input = run(["manage.py", "analytics", "count", "post:3", ""], url)
    assert (bad_input.returncode, bad_input.stderr.strip()) == (2, "Error: metric must not be empty")
    down = run(["manage.py", "analytics", "count", "post:3", "likes"], "redis://127.0.0.1:1/0")
    assert down.returncode == 1
    assert "redis://127.0.0.1:1/0" in down.stderr and len(down.stderr.strip().splitlines()) == 1
