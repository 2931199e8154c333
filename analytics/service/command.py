"""``analytics serve``: run the HTTP service with uvicorn.

The Redis comes from the same options as every ``analytics`` command (or
``$ANALYTICS_REDIS_URL``); with none, an embedded Redis (:mod:`analytics.embedded`,
the demo's) runs for as long as the service, and the first line of output says so.
Tokens come from ``--token``/``--tokens-file`` or ``$ANALYTICS_TOKENS``; without
any, the service listens only on loopback addresses unless ``--no-auth`` is given.

Each uvicorn worker builds its app with :func:`app_from_environment`, from the
options this command hands over in ``$ANALYTICS_SERVICE``: only the SHA-256 of
each token travels, never a token.
"""
import contextlib
import ipaddress
import json
import os
import secrets
from typing import Any, Dict, Optional, Sequence, Tuple

import click

from analytics import config, create_analytic_backend
from analytics.embedded import embedded_redis
from analytics.cli import SESSION, Failure, connection_options
from analytics.errors import ConfigurationError

ENV_SERVICE = "ANALYTICS_SERVICE"


def loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def app_from_environment() -> Any:
    """The app of one uvicorn worker, from what :func:`serve` put in ``$ANALYTICS_SERVICE``."""
    from analytics import aio
    from analytics.service.app import create_app
    from analytics.service.auth import Tokens

    options = json.loads(os.environ[ENV_SERVICE])
    backend = aio.create_analytic_backend(options["settings"])
    return create_app(backend, tokens=Tokens(tuple(entry) for entry in options["tokens"]),
                      max_body=options["max_body"], cors_origin=options["cors_origin"], close_backend=True)


def describe(settings: Dict[str, Any]) -> str:
    inner = settings.get("settings", {})
    where = inner.get("cluster") or inner.get("hosts") or "the settings file's Redis"
    return "Redis %s, prefix %r" % (where if isinstance(where, str) else ", ".join(map(str, where)),
                                    settings.get("prefix", "_analytics"))


def settings_from(urls: Sequence[str], cluster: Optional[str], settings_file: Optional[str], prefix: Optional[str],
                  timeout: Optional[float]) -> Optional[Dict[str, Any]]:
    """The backend settings of this command's options, else of the ``analytics`` group's."""
    found = config.backend_settings(urls, cluster, settings_file, prefix, timeout)
    if found is None:
        session = click.get_current_context().meta.get(SESSION)
        try:
            found = session.settings if session is not None else None
        except Failure:
            found = None
        if found is not None and prefix is not None:
            found = dict(found, prefix=prefix)
    return found


def check_backend(settings: Dict[str, Any]) -> None:
    """Build the backend once before serving, so that wrong settings stop here (exit 2)."""
    try:
        create_analytic_backend(settings).close()
    except (ConfigurationError, TypeError, ValueError, ImportError) as exc:
        raise Failure("bad settings: %s" % exc, 2) from None


def fill_demo(settings: Dict[str, Any], tokens: Any, no_auth: bool) -> str:
    """Track the dashboard's sample counters; the read token made up for them, unless tokens were given."""
    from analytics.service.dashboard import sample

    backend = create_analytic_backend(settings)
    try:
        tracked = backend.track_metrics(sample.events())
    finally:
        backend.close()
    click.echo("--demo: tracked %d sample events for %s" % (tracked, ", ".join(sample.UIDS)))
    if tokens or no_auth:
        return ""
    # Printed in the URL's fragment, which the browser keeps to itself: the page stores it for the session.
    return secrets.token_urlsafe(18)


@click.command("serve")
@connection_options
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(1), default=1, show_default=True, help="uvicorn worker processes.")
@click.option("--max-body", type=click.IntRange(1), default=16 * 1024 * 1024, show_default=True,
              help="The largest JSON body taken, in bytes (NDJSON bodies stream).")
@click.option("--token", "token_specs", multiple=True, metavar="SCOPE:TOKEN",
              help="A bearer token and its scope (read, write, admin); repeatable.  SCOPE:sha256:HEX gives its hash.")
@click.option("--tokens-file", type=click.Path(dir_okay=False), help="A file of SCOPE:TOKEN lines.")
@click.option("--no-auth", is_flag=True, help="Serve without tokens on a non-loopback address.")
@click.option("--cors-origin", metavar="ORIGIN", help="Let this browser origin call the API (CORS).")
@click.option("--demo", "demo_data", is_flag=True,
              help="Fill an embedded Redis with sample counters and print the dashboard's URL (with a read token).")
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]), default="info",
              show_default=True)
def serve(urls: Sequence[str], cluster: Optional[str], settings_file: Optional[str], prefix: Optional[str],
          timeout: Optional[float], host: str, port: int, workers: int, max_body: int, token_specs: Tuple[str, ...],
          tokens_file: Optional[str], no_auth: bool, cors_origin: Optional[str], demo_data: bool, log_level: str
          ) -> None:
    """Serve the counters over HTTP (API v1; the document is at /v1/openapi.json, a page at /docs)."""
    from analytics.service import auth

    try:
        import uvicorn
    except ImportError:
        raise Failure("the service needs its extra: pip install 'analytics[server]'", 2) from None
    try:
        tokens = auth.load(token_specs, tokens_file)
    except ConfigurationError as exc:
        raise Failure(str(exc), 2) from None
    if not tokens and not no_auth and not loopback(host):
        raise Failure("refusing to listen on %s without a token: anyone who reaches it could read and delete "
                      "the counters; give --token SCOPE:TOKEN or --tokens-file FILE (or --no-auth)" % host, 2)
    with contextlib.ExitStack() as stack:
        try:
            settings = settings_from(urls, cluster, settings_file, prefix, timeout)
        except ConfigurationError as exc:
            raise Failure(str(exc), 2) from None
        if settings is None:
            url = stack.enter_context(embedded_redis())
            settings = config.backend_settings([url], prefix=prefix, timeout=timeout)
            assert settings is not None
            click.echo("No Redis configured: serving an embedded Redis at %s (its data is deleted when the service "
                       "stops; use --url for a real one)" % url)
        elif demo_data:
            raise Failure("--demo fills an embedded Redis of its own: leave out --url, --cluster, --settings and "
                          "$ANALYTICS_REDIS_URL", 2)
        else:
            click.echo("Serving %s" % describe(settings))
        check_backend(settings)
        dashboard_token = ""
        if demo_data:
            dashboard_token = fill_demo(settings, tokens, no_auth)
            if dashboard_token:
                tokens = auth.Tokens([("read", auth.digest(dashboard_token))])
        click.echo("analytics API v1 on http://%s:%d (docs at /docs), %s" % (
            host if ":" not in host else "[%s]" % host, port,
            "%d tokens" % len(tokens.entries) if tokens else "no tokens: every request is allowed"))
        click.echo("Dashboard: http://%s:%d/%s" % (host if ":" not in host else "[%s]" % host, port,
                                                    "#token=" + dashboard_token if dashboard_token else ""))
        os.environ[ENV_SERVICE] = json.dumps({"settings": settings, "tokens": tokens.entries, "max_body": max_body,
                                              "cors_origin": cors_origin})
        uvicorn.run("analytics.service.command:app_from_environment", factory=True, host=host, port=port,
                    workers=workers, log_level=log_level)
