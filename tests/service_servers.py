"""``analytics serve`` as a real process for the tests, on a free loopback port.

Each service is started with ``python -m analytics serve`` and the given
options, its output captured in a file, and it is ready once ``/healthz``
answers (any status: a service whose Redis is down is still up).  It is
stopped by PID.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

import httpx

from servers import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Service:
    """One ``analytics serve`` process; ``args`` are its options after ``serve``."""

    def __init__(self, args: List[str], env: Optional[Dict[str, str]] = None, host: str = "127.0.0.1"):
        self.port = free_port()
        self.host = host
        self.args = args
        self.env = env
        self.dir = tempfile.mkdtemp(prefix="analytics-service-")
        self.log_path = os.path.join(self.dir, "service.log")
        self.process: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return "http://%s:%d" % (self.host, self.port)

    def command(self) -> List[str]:
        return [sys.executable, "-m", "analytics", "serve", "--host", self.host, "--port", str(self.port),
                "--log-level", "warning"] + self.args

    def start(self, wait: float = 20.0) -> "Service":
        env = dict(os.environ)
        env.pop("ANALYTICS_REDIS_URL", None)
        env.pop("ANALYTICS_TOKENS", None)
        env.update(self.env or {})
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(self.command(), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + wait
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("analytics serve exited with %s: %s" % (self.process.returncode, self.output()))
            try:
                # A plain connect first: each httpx.get() builds an SSL context, too slow to poll with.
                socket.create_connection((self.host if self.host != "0.0.0.0" else "127.0.0.1", self.port),
                                         timeout=0.2).close()
                httpx.get(self.url.replace("0.0.0.0", "127.0.0.1") + "/healthz", timeout=5)
                return self
            except (OSError, httpx.TransportError):
                if time.monotonic() > deadline:
                    raise RuntimeError("analytics serve did not start: %s" % self.output())
                time.sleep(0.05)

    def output(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None


def settings_file(folder: str, settings: dict, name: str = "settings.json") -> str:
    path = os.path.join(folder, name)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(settings, handle)
    return path


def serve_settings(settings: dict, *args: str, prefix: Optional[str] = None, env: Optional[Dict[str, str]] = None
                   ) -> Service:
    """A started service over ``settings`` (the backend's ``settings`` dict), options ``args``."""
    service = Service([], env=env)
    config = {"backend": "analytics.backends.redis.Redis", "settings": settings}
    if prefix is not None:
        config["prefix"] = prefix
    service.args = ["--settings", settings_file(service.dir, config)] + list(args)
    return service.start()
