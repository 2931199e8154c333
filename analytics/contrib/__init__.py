"""What the Django and Flask integrations share: settings read from a framework, and a per-process backend.

:class:`LazyBackend` stands for a backend that is built on first use in each
process: web servers that fork workers (gunicorn, uwsgi) import the
application once and fork afterwards, so a backend built before the fork
would be shared by every worker.  Each process builds its own instead.
:class:`LazyAsyncBackend` does the same for the asyncio backend, per event loop.
"""
import asyncio
import contextlib
import os
import threading
import uuid
import weakref
from typing import Any, Callable, Dict, Iterator, Mapping, Optional, Sequence, Tuple, Union

from analytics import aio, config, create_analytic_backend
from analytics.cli import DEFAULT_PREFIX
from analytics.errors import ConfigurationError


def framework_settings(analytics: Any, url: Optional[Union[str, Sequence[str]]], prefix: Optional[str],
                       where: str) -> Dict[str, Any]:
    """The backend settings a framework's ``ANALYTICS`` / ``ANALYTICS_URL`` / ``ANALYTICS_PREFIX`` describe.

    ``ANALYTICS`` is the :func:`analytics.create_analytic_backend` dict;
    ``ANALYTICS_URL`` one Redis URL, several separated by commas, or a list of
    them (a host list).  With neither, ``$ANALYTICS_REDIS_URL`` is used.
    ``where`` names the settings in error messages.
    """
    if analytics is not None and url is not None:
        raise ConfigurationError("%s: set ANALYTICS or ANALYTICS_URL, not both" % where)
    if prefix is not None and not isinstance(prefix, str):
        raise ConfigurationError("%s: ANALYTICS_PREFIX must be a str, got %r" % (where, prefix))
    if analytics is not None:
        if not isinstance(analytics, Mapping):
            raise ConfigurationError("%s: ANALYTICS must be a dict like {'backend': ..., 'settings': {...}}, got %r"
                                     % (where, analytics))
        given = dict(analytics)
        given.setdefault("backend", config.REDIS_BACKEND)
        if prefix is not None:
            given["prefix"] = prefix
        return given
    found: Optional[Dict[str, Any]]
    if url is not None:
        urls = config.urls_from_env({config.ENV_URL: url}) if isinstance(url, str) else list(url)
        if not urls or not all(isinstance(item, str) for item in urls):
            raise ConfigurationError("%s: ANALYTICS_URL must be a Redis URL or a list of them, got %r" % (where, url))
        found = config.backend_settings(urls=urls, prefix=prefix)
    else:
        found = config.backend_settings(prefix=prefix)
    if found is None:
        raise ConfigurationError("no analytics Redis configured: set ANALYTICS_URL = 'redis://HOST:6379/0' "
                                 "(or ANALYTICS = {...}) in %s, or the %s environment variable" % (where, config.ENV_URL))
    return found


def check_settings(settings: Mapping[str, Any]) -> None:
    """Build a backend from ``settings`` and close it: raises the library's error if they are wrong.

    A host list opens no connection; a cluster is contacted to learn its slots.
    """
    with create_analytic_backend(settings):
        pass


class LazyBackend:
    """A stand-in for the backend ``settings()`` describes, built on first use in each process.

    Every attribute not defined here is the real backend's (``track_metric``,
    ``get_count``, ...).  Thread-safe; after ``os.fork()`` the child builds its
    own backend (and connections) on first use.
    """

    def __init__(self, settings: Callable[[], Mapping[str, Any]]):
        self._settings = settings
        self._lock = threading.Lock()
        self._backend: Any = None
        self._pid: Optional[int] = None
        self._override: Any = None
        self._override_prefix = ""

    def backend_for_process(self) -> Any:
        """The real backend of this process (built now if needed)."""
        if self._override is not None:
            return self._override
        pid = os.getpid()
        if self._pid != pid:
            with self._lock:
                if self._pid != pid:
                    # An inherited backend belongs to the parent: it is dropped, not closed,
                    # so the parent's connections stay untouched.
                    self._backend = create_analytic_backend(self._settings())
                    self._pid = pid
        return self._backend

    def reset(self) -> None:
        """Close this process' backend (if built): the next use builds one from the settings again."""
        with self._lock:
            if self._backend is not None and self._pid == os.getpid():
                self._backend.close()
            self._backend, self._pid = None, None

    @property
    def prefix(self) -> str:
        """The key prefix in use (a test prefix inside :meth:`isolated`)."""
        if self._override is not None:
            return self._override_prefix
        return self._settings().get("prefix", DEFAULT_PREFIX)

    @contextlib.contextmanager
    def isolated(self, prefix: Optional[str] = None) -> Iterator[Any]:
        """For tests: a backend on a fresh prefix that this stand-in uses in the block, cleared afterwards.

        The prefix is the configured one plus ``-test-`` and a random suffix (not
        a nested ``prefix:...``, which the configured prefix's ``clear_all``
        would own), or ``prefix``.  Only the keys of that prefix are deleted at
        the end; the backend is shared by every thread of the process meanwhile.
        """
        settings = dict(self._settings())
        settings["prefix"] = prefix or "%s-test-%s" % (settings.get("prefix", DEFAULT_PREFIX), uuid.uuid4().hex[:12])
        backend = create_analytic_backend(settings)
        saved = self._override, self._override_prefix
        self._override, self._override_prefix = backend, settings["prefix"]
        try:
            yield backend
        finally:
            self._override, self._override_prefix = saved
            try:
                backend.clear_all()
            finally:
                backend.close()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.backend_for_process(), name)

    def __repr__(self) -> str:
        return "<LazyBackend %s>" % ("built in process %d" % self._pid if self._pid else "not built yet")


class LazyAsyncBackend:
    """The asyncio backend ``settings()`` describes, built on first use in each event loop of each process.

    An asyncio connection belongs to the loop that opened it, so every loop
    (an ASGI server has one per worker; ``async_to_sync`` under WSGI makes one
    per call) gets its own backend, dropped with its loop.  Every attribute not
    defined here is the real backend's: ``await aanalytics.track_metric(...)``.
    A backend is rebuilt when the settings' prefix changes (a test prefix).
    """

    def __init__(self, settings: Callable[[], Mapping[str, Any]]):
        self._settings = settings
        self._pid: Optional[int] = None
        self._backends: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Tuple[Any, Any]]" = \
            weakref.WeakKeyDictionary()

    def backend_for_loop(self) -> Any:
        """The real asyncio backend of the running event loop (built now if needed)."""
        loop = asyncio.get_running_loop()
        if self._pid != os.getpid():
            self._backends, self._pid = weakref.WeakKeyDictionary(), os.getpid()
        settings = self._settings()
        prefix = settings.get("prefix")
        found = self._backends.get(loop)
        if found is None or found[0] != prefix:
            found = self._backends[loop] = (prefix, aio.create_analytic_backend(settings))
        return found[1]

    def reset(self) -> None:
        """Forget every backend: the next use in each loop builds one from the settings again."""
        self._backends = weakref.WeakKeyDictionary()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.backend_for_loop(), name)

    def __repr__(self) -> str:
        return "<LazyAsyncBackend for %d event loop(s)>" % len(self._backends)
