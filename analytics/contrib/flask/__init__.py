"""Flask integration: ``Analytics(app)`` and the ``flask analytics ...`` commands.

::

    app.config["ANALYTICS_URL"] = "redis://localhost:6379/0"   # or ANALYTICS = {...}
    Analytics(app)

    @app.post("/posts/<int:post_id>/like")
    def like(post_id):
        current_app.extensions["analytics"].track_metric("post:%d" % post_id, "likes")

The backend is built on first use in each process (and again in a forked
worker), from ``ANALYTICS`` (the :func:`analytics.create_analytic_backend`
dict), or ``ANALYTICS_URL`` (a URL, comma-separated URLs or a list: a host
list) with ``ANALYTICS_PREFIX``, or else ``$ANALYTICS_REDIS_URL``.
"""
from typing import Any, Dict, Optional

from flask import Flask, current_app
from flask.cli import with_appcontext

from analytics.cli import Failure, Session, command_group
from analytics.contrib import LazyBackend, framework_settings

EXTENSION = "analytics"


def app_settings(app: Flask) -> Dict[str, Any]:
    """The backend settings of ``app``'s config (raises ``ConfigurationError`` when there are none)."""
    return framework_settings(app.config.get("ANALYTICS"), app.config.get("ANALYTICS_URL"),
                              app.config.get("ANALYTICS_PREFIX"), "the Flask app's config")


def _session() -> Session:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    lazy = app.extensions.get(EXTENSION)
    if lazy is None:
        raise Failure("the app does not use analytics.contrib.flask.Analytics (call Analytics(app))", 2)
    # The prefix the backend really has (a test prefix inside LazyBackend.isolated()).
    return Session(lambda: dict(app_settings(app), prefix=lazy.prefix), shared=lazy.backend_for_process)


#: ``flask analytics ...``: the ``analytics`` commands on the app's backend.
analytics_commands = command_group("analytics", _session, "Analytics counters of this app (see `analytics --help`).",
                                   wrap=with_appcontext)


class Analytics:
    """The Flask extension: puts a :class:`~analytics.contrib.LazyBackend` in ``app.extensions["analytics"]``."""

    def __init__(self, app: Optional[Flask] = None):
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Set up ``app``: its lazily built backend and the ``flask analytics`` commands."""
        app.extensions[EXTENSION] = LazyBackend(lambda: app_settings(app))
        app.cli.add_command(analytics_commands)

    @property
    def backend(self) -> LazyBackend:
        """The current app's backend (inside an app context)."""
        return current_app.extensions[EXTENSION]
