"""Where a backend's settings come from when no Python code hands them in.

The command line (``analytics ...``), the HTTP service (``analytics serve``) and
the framework integrations all accept the same few sources, read here once:

* ``--url URL`` (repeatable, a host list), ``--cluster URL``, or ``--settings FILE``
  (JSON, or TOML on Python 3.11+; the same dict :func:`analytics.create_analytic_backend`
  takes);
* the ``ANALYTICS_REDIS_URL`` environment variable (one URL, or several separated
  by commas or spaces: a host list) when none of the above is given;
* ``--prefix`` and ``--timeout`` on top of any of them.

:func:`backend_settings` returns the dict for :func:`analytics.create_analytic_backend`,
or ``None`` when nothing names a Redis (callers then start the embedded server
the demo uses, or refuse).
"""
import json
import os
import re
import sys
from typing import Any, Dict, Mapping, Optional, Sequence

from analytics.errors import ConfigurationError

ENV_URL = "ANALYTICS_REDIS_URL"
REDIS_BACKEND = "analytics.backends.redis.Redis"


def urls_from_env(environ: Mapping[str, str]) -> list:
    """The host list ``ANALYTICS_REDIS_URL`` names (empty when unset or blank)."""
    return [url for url in re.split(r"[,\s]+", environ.get(ENV_URL, "")) if url]


def read_settings_file(path: str) -> Dict[str, Any]:
    """A settings file: JSON, or TOML when its name ends in ``.toml``."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise ConfigurationError("settings file %s: %s" % (path, exc.strerror or exc)) from None
    try:
        if path.endswith(".toml"):
            if sys.version_info >= (3, 11):
                import tomllib

                loaded = tomllib.loads(raw.decode("utf-8"))
            else:
                raise ConfigurationError("settings file %s: TOML needs Python 3.11 or newer; use JSON" % path)
        else:
            loaded = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigurationError("settings file %s is not valid %s: %s"
                                 % (path, "TOML" if path.endswith(".toml") else "JSON", exc)) from None
    if not isinstance(loaded, dict):
        raise ConfigurationError("settings file %s must hold an object ({...}), got %s" % (path, type(loaded).__name__))
    return loaded


def backend_settings(urls: Sequence[str] = (), cluster: Optional[str] = None, settings_file: Optional[str] = None,
                     prefix: Optional[str] = None, timeout: Optional[float] = None,
                     environ: Optional[Mapping[str, str]] = None) -> Optional[Dict[str, Any]]:
    """The ``create_analytic_backend`` dict the options describe, or ``None`` if none names a Redis.

    At most one of ``urls``, ``cluster`` and ``settings_file`` may be given; the
    environment is read only when none is.  ``timeout`` (seconds) becomes each
    host's ``timeout`` setting (the cluster's ``options["timeout"]``).
    """
    given = [name for name, value in (("--url", urls), ("--cluster", cluster), ("--settings", settings_file)) if value]
    if len(given) > 1:
        raise ConfigurationError("give only one of --url, --cluster and --settings (got %s)" % " and ".join(given))
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0):
        raise ConfigurationError("--timeout must be a positive number of seconds, got %r" % (timeout,))
    if settings_file:
        config = read_settings_file(settings_file)
        config.setdefault("backend", REDIS_BACKEND)
        if timeout is not None:
            raise ConfigurationError("--timeout cannot be combined with --settings (set it in the file)")
    else:
        if cluster:
            settings: Dict[str, Any] = {"cluster": cluster}
            if timeout is not None:
                settings["options"] = {"timeout": timeout}
        else:
            hosts = list(urls) or urls_from_env(os.environ if environ is None else environ)
            if not hosts:
                return None
            settings = {"hosts": hosts}
            if timeout is not None:
                # A "defaults" dict replaces the built-in ones; URLs carry their own host and port.
                settings["defaults"] = {"timeout": timeout}
        config = {"backend": REDIS_BACKEND, "settings": settings}
    if prefix is not None:
        config["prefix"] = prefix
    return config
