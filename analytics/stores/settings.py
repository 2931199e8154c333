"""Settings dicts and URLs -> the right :class:`~analytics.stores.sync.SyncStore`, validated up front.

Forms accepted (see the README's "Settings" section):

* ``{"hosts": [host, ...], "defaults": {...}}`` - py-analytics 0.6.x's form.  A host
  is a dict (``host``, ``port``, ``db``, ``password``, ``timeout``,
  ``unix_socket_path``, ``identifier``, plus ``username`` and ``ssl_*``) or a URL
  (``redis://[user:password@]host:port/db``, ``rediss://...``, ``unix:///path?db=N``).
  One host gives a single-host store, several a ring.
* ``{"cluster": url or [urls], "options": {...}}`` - Redis Cluster.
* ``{"client": redis.Redis or redis.cluster.RedisCluster}`` - the application's own client.
"""
import os
import ssl as _ssl
from typing import Any, Dict, List, Mapping, Sequence, Tuple
from urllib.parse import parse_qs, unquote, urlsplit

import redis
import redis.exceptions
from redis.backoff import NoBackoff
from redis.retry import Retry

from analytics.errors import ConfigurationError
from analytics.stores.ring import RingStore
from analytics.stores.routing import Node
from analytics.stores.single import SingleStore
from analytics.stores.sync import SyncStore

BUILTIN_DEFAULTS = {"host": "localhost", "port": 6379}
#: 0.6.x set no timeout, so a dead host could hang a request forever.
DEFAULT_TIMEOUT = 5.0

HOST_KEYS = frozenset(
    {
        "host", "port", "db", "password", "username", "timeout", "unix_socket_path", "identifier",
        "ssl", "ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_cert_reqs",
    }
)
SETTINGS_KEYS = frozenset({"hosts", "defaults", "cluster", "options", "client"})
_URL_QUERY_KEYS = frozenset({"db", "timeout", "identifier", "ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_cert_reqs"})
_CERT_REQS = {"none": _ssl.CERT_NONE, "optional": _ssl.CERT_OPTIONAL, "required": _ssl.CERT_REQUIRED}


def parse_host_url(url: str) -> Dict[str, Any]:
    """A host URL as the equivalent host dict (so it is placed exactly like that dict)."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. an unclosed "[" of an IPv6 address
        raise ConfigurationError("host URL %r: %s" % (url, exc)) from None
    scheme = parts.scheme.lower()
    if scheme not in ("redis", "rediss", "unix"):
        raise ConfigurationError("host URL %r: the scheme must be redis://, rediss:// or unix://" % (url,))
    spec: Dict[str, Any] = {}
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = sorted(set(query) - _URL_QUERY_KEYS)
    if unknown:
        raise ConfigurationError("host URL %r: unknown query parameter(s) %s" % (url, ", ".join(unknown)))
    spec.update(query)
    if parts.username:
        spec["username"] = unquote(parts.username)
    if parts.password:
        spec["password"] = unquote(parts.password)
    if scheme == "unix":
        if not parts.path:
            raise ConfigurationError("host URL %r: a unix:// URL needs a socket path" % (url,))
        spec["unix_socket_path"] = unquote(parts.path)
    else:
        if parts.hostname:
            spec["host"] = unquote(parts.hostname)
        try:
            port = parts.port
        except ValueError:
            raise ConfigurationError("host URL %r: the port is not a number" % (url,)) from None
        if port is not None:
            spec["port"] = port
        path = parts.path.strip("/")
        if path:
            spec["db"] = path
        if scheme == "rediss":
            spec["ssl"] = True
    return spec


def _as_int(value: Any, what: str) -> int:
    # int(6379.5) would quietly connect to port 6379: no floats, no bools.
    if isinstance(value, (bool, float)):
        raise ConfigurationError("%s must be a whole number, got %r" % (what, value))
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigurationError("%s must be a whole number, got %r" % (what, value)) from None


class HostSpec:
    """One resolved host: where to connect, and the identifier that places keys on it."""

    def __init__(self, index: int, raw: Any, defaults: Mapping[str, Any]):
        where = "settings['hosts'][%d]" % index
        if isinstance(raw, str):
            raw = parse_host_url(raw)
        elif not isinstance(raw, Mapping):
            raise ConfigurationError("%s must be a dict or a redis:// URL, got %r" % (where, raw))
        unknown = sorted(set(raw) - HOST_KEYS)
        if unknown:
            raise ConfigurationError("%s: unknown setting(s) %s" % (where, ", ".join(map(repr, unknown))))
        merged = dict(defaults)
        merged.update(raw)
        self.host = merged.get("host", "localhost")
        self.port = merged.get("port", 6379)
        self.db = merged.get("db", 0)
        _check_text(merged, where)
        # Placement depends on the text of the values as given (port 6379 and
        # "6379" are the same host), exactly as in 0.6.x.
        self.identifier = merged.get("identifier") or "redis://%s:%s/%s" % (self.host, self.port, self.db)
        self.name = self.identifier if merged.get("identifier") else "redis://%s:%s/%s" % (self.host, self.port, self.db)
        self.options = self._connection_options(merged, where)

    def _connection_options(self, merged: Mapping[str, Any], where: str) -> Dict[str, Any]:
        timeout = merged.get("timeout", DEFAULT_TIMEOUT)
        if timeout is not None:
            try:
                timeout = float(timeout)
            except (TypeError, ValueError):
                raise ConfigurationError("%s: timeout must be a number of seconds, got %r" % (where, timeout)) from None
            if isinstance(merged.get("timeout"), bool) or not 0 < timeout < 1e9:
                raise ConfigurationError("%s: timeout must be a positive, finite number of seconds, got %r"
                                         % (where, merged.get("timeout")))
        options: Dict[str, Any] = {
            "db": _as_int(self.db, where + ": db"),
            "password": merged.get("password"),
            "username": merged.get("username"),
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            "decode_responses": True,
            # redis-py 6+ retries (with backoff) connecting and whole commands by
            # default: seconds beyond `timeout` on a dead host, and a re-sent
            # command may count twice.  The library never retries (README, Guarantees).
            "retry": Retry(NoBackoff(), 0),
        }
        if options["db"] < 0:
            raise ConfigurationError("%s: db must not be negative, got %r" % (where, self.db))
        if merged.get("unix_socket_path"):
            options["unix_socket_path"] = merged["unix_socket_path"]
        else:
            options["host"] = self.host
            options["port"] = _as_int(self.port, where + ": port")
            if not 0 < options["port"] < 65536:
                raise ConfigurationError("%s: port %r is out of range" % (where, self.port))
        if merged.get("ssl") or any(key.startswith("ssl_") for key in merged):
            options.update(tls_options(merged, where))
        return options

    def client(self) -> redis.Redis:
        return redis.Redis(**self.options)


def _check_text(merged: Mapping[str, Any], where: str) -> None:
    """Settings redis-py would only trip over on the first connection."""
    host = merged.get("host", "localhost")
    if not merged.get("unix_socket_path") and (not isinstance(host, str) or not host):
        raise ConfigurationError("%s: host must be a non-empty host name or address, got %r" % (where, host))
    # An int password or identifier worked in 0.6.x (both were formatted as text).
    for key, kinds in (("password", (str, bytes, int)), ("username", (str, bytes)), ("unix_socket_path", (str,)),
                       ("identifier", (str, int))):
        value = merged.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, kinds)):
            raise ConfigurationError("%s: %s must be a str, got %r" % (where, key, value))
    for key, value in merged.items():
        if isinstance(value, str) and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ConfigurationError("%s: %s %r is not valid Unicode (lone surrogate)" % (where, key, value)) from None


TLS_FILES = ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile")


def check_tls_files(settings: Mapping[str, Any], where: str) -> None:
    """Each TLS file setting must name a readable file.

    Checked when the backend is built: otherwise a missing certificate shows up
    only at the first call, as an unavailable host.
    """
    for key in TLS_FILES:
        path = settings.get(key)
        if not path:
            continue
        if not isinstance(path, str):
            raise ConfigurationError("%s: %s must be a file path (str), got %r" % (where, key, path))
        if not os.path.isfile(path):
            raise ConfigurationError("%s: %s %r does not exist or is not a file" % (where, key, path))
        if not os.access(path, os.R_OK):
            raise ConfigurationError("%s: %s %r is not readable" % (where, key, path))


def tls_options(merged: Mapping[str, Any], where: str) -> Dict[str, Any]:
    """redis-py's TLS keyword arguments from ``ssl_*`` settings (their files checked)."""
    options: Dict[str, Any] = {"ssl": True}
    check_tls_files(merged, where)
    for key in TLS_FILES:
        if merged.get(key):
            options[key] = merged[key]
    reqs = merged.get("ssl_cert_reqs")
    if reqs is not None:
        if isinstance(reqs, str):
            if reqs.lower() not in _CERT_REQS:
                raise ConfigurationError("%s: ssl_cert_reqs must be none, optional or required, got %r" % (where, reqs))
            reqs = _CERT_REQS[reqs.lower()]
        elif reqs not in _CERT_REQS.values():
            raise ConfigurationError("%s: ssl_cert_reqs must be none, optional or required, got %r" % (where, reqs))
        options["ssl_cert_reqs"] = reqs
        if reqs == _ssl.CERT_NONE:
            # No verification means no host name check either; redis-py 6.0
            # checks host names by default and then refuses CERT_NONE outright.
            options["ssl_check_hostname"] = False
    return options


#: What a plain client needs to reach a cluster's startup node the way the cluster client would.
_PROBE_KEYS = frozenset({"username", "password", "socket_timeout", "socket_connect_timeout", "credential_provider",
                         "protocol"})


def check_cluster_mode(client_options: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigurationError` if a startup node answers but is not in cluster mode.

    Called after the cluster client could not be built.  redis-py reports a
    standalone server like a node that cannot be reached; asking each node
    ``INFO cluster`` with a plain client tells the two apart.  Nodes that do
    not answer are left for the caller to report as unavailable.
    """
    startup: Sequence[Any] = client_options["startup_nodes"]
    options = {key: value for key, value in client_options.items() if key in _PROBE_KEYS or key.startswith("ssl")}
    for node in startup:
        probe = redis.Redis(host=node.host, port=node.port, retry=Retry(NoBackoff(), 0), **options)
        try:
            enabled = probe.info("cluster").get("cluster_enabled")
        except (redis.exceptions.RedisError, OSError):
            continue
        finally:
            probe.close()
        if not enabled:
            raise ConfigurationError(
                "settings['cluster']: %s:%s answered, but it is not in cluster mode (cluster_enabled:0); "
                "for a standalone server use {'hosts': [...]}" % (node.host, node.port)
            )


def resolve_hosts(settings: Mapping[str, Any]) -> List[HostSpec]:
    """The ``hosts`` list of a 0.6.x settings dict, resolved and checked."""
    hosts = settings.get("hosts")
    if not hosts:
        raise ConfigurationError("No redis hosts specified: settings['hosts'] must list at least one host")
    if isinstance(hosts, (str, Mapping)) or not isinstance(hosts, (list, tuple)):
        raise ConfigurationError("settings['hosts'] must be a list of host dicts or URLs, got %r" % (hosts,))
    # As in 0.6.x, a "defaults" dict replaces the built-in defaults instead of merging with them.
    defaults = settings.get("defaults", BUILTIN_DEFAULTS)
    if not isinstance(defaults, Mapping):
        raise ConfigurationError("settings['defaults'] must be a dict, got %r" % (defaults,))
    unknown = sorted(set(defaults) - HOST_KEYS)
    if unknown:
        raise ConfigurationError("settings['defaults']: unknown setting(s) %s" % ", ".join(map(repr, unknown)))
    specs = [HostSpec(index, raw, defaults) for index, raw in enumerate(hosts)]
    seen: Dict[str, int] = {}
    for index, spec in enumerate(specs):
        if spec.identifier in seen:
            raise ConfigurationError(
                "settings['hosts'][%d] and [%d] have the same identifier %r: every host needs its own "
                "(give each an explicit 'identifier')" % (seen[spec.identifier], index, spec.identifier)
            )
        seen[spec.identifier] = index
    return specs


def check_keys(settings: Mapping[str, Any]) -> None:
    if not isinstance(settings, Mapping):
        raise ConfigurationError("the Redis backend's settings must be a dict, got %r" % (settings,))
    unknown = sorted(set(settings) - SETTINGS_KEYS)
    if unknown:
        raise ConfigurationError(
            "unknown setting(s) %s; expected 'hosts' (+ 'defaults'), 'cluster' (+ 'options') or 'client'"
            % ", ".join(map(repr, unknown))
        )
    forms = [key for key in ("hosts", "cluster", "client") if key in settings]
    if len(forms) > 1:
        raise ConfigurationError("settings can use only one of 'hosts', 'cluster' and 'client', got %s" % " and ".join(forms))
    if "defaults" in settings and "hosts" not in settings:
        raise ConfigurationError("settings['defaults'] only applies to settings['hosts']")
    if "options" in settings and "cluster" not in settings:
        raise ConfigurationError("settings['options'] only applies to settings['cluster']")


def describe(settings: Mapping[str, Any]) -> Tuple[str, Any]:
    """What a settings dict asks for, checked, before any client exists.

    ``("hosts", [HostSpec, ...])``, ``("cluster", RedisCluster keyword arguments)``
    or ``("client", the application's client)``: the sync and the asyncio
    drivers build their own clients from the same checked description.
    """
    check_keys(settings)
    if "client" in settings:
        return "client", settings["client"]
    if "cluster" in settings:
        from analytics.stores.cluster import cluster_client_options

        return "cluster", cluster_client_options(settings["cluster"], settings.get("options") or {})
    return "hosts", resolve_hosts(settings)


def build_store(settings: Mapping[str, Any]) -> SyncStore:
    """Build and validate the sync store a settings dict describes (a host list opens no connection)."""
    kind, described = describe(settings)
    if kind == "client":
        return _store_for_client(described)
    if kind == "cluster":
        from analytics.stores.cluster import ClusterStore

        return ClusterStore.from_kwargs(described)
    # One host is a ring of one: get_backend() still returns the nydus-like client.
    return RingStore([Node(spec.name, spec.client()) for spec in described], [spec.identifier for spec in described])


def client_node_name(kwargs: Mapping[str, Any]) -> str:
    """How errors name the server of an application's own client (its connection keyword arguments)."""
    where = kwargs.get("path") or "%s:%s" % (kwargs.get("host"), kwargs.get("port"))
    return "redis://%s/%s" % (where, kwargs.get("db", 0))


def _store_for_client(client: Any) -> SyncStore:
    from redis.cluster import RedisCluster

    if isinstance(client, RedisCluster):
        from analytics.stores.cluster import ClusterStore

        return ClusterStore(client)
    if isinstance(client, redis.Redis):
        return SingleStore(Node(client_node_name(client.connection_pool.connection_kwargs), client))
    raise ConfigurationError("settings['client'] must be a redis.Redis or redis.cluster.RedisCluster, got %r" % (client,))
