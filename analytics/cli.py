"""``analytics ...``: track, read, list, export and import counts from a shell.

The Redis comes from ``--url`` (repeatable: a host list), ``--cluster``,
``--settings FILE`` or ``$ANALYTICS_REDIS_URL``, read by :mod:`analytics.config`.
``flask analytics`` and ``manage.py analytics`` are the same commands on an
application's own settings: every command finds its backend through the
:class:`Session` stored in the click context, which each entry point sets up.

Exit status: 0 on success, 1 when Redis fails, 2 on bad usage or bad input.

Commands that live elsewhere join every entry point lazily, without this
module importing them: add ``"name": "package.module:command"`` to
:data:`LAZY_COMMANDS` (or call :func:`add_lazy_command`).
"""
import datetime
import importlib
import json
import os
import sys
from typing import IO, Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import click
import redis
import redis.cluster
import redis.exceptions

from analytics import buckets, config, create_analytic_backend, formats, schema, transfer
from analytics.errors import HostUnavailableError

#: Commands imported only when named (or listed by ``--help``): name -> ``"module:attribute"``.
LAZY_COMMANDS: Dict[str, str] = {
    # Imported on use only: the service needs the 'server' extra (starlette, uvicorn).
    "serve": "analytics.service.command:serve",
}

SESSION = "analytics.session"
#: The prefix of a backend whose settings name none (the Redis backend's default).
DEFAULT_PREFIX = "_analytics"
NOT_CONFIGURED = ("no Redis configured: pass --url redis://HOST:6379/0 (repeat it for a host list), "
                  "--cluster redis://HOST:PORT or --settings FILE, or set %s" % config.ENV_URL)
DEFAULT_LIMITS = {"day": 30, "week": 10, "month": 10}


def add_lazy_command(name: str, target: str) -> None:
    """Offer ``target`` (``"module:attribute"``, a click command) as ``analytics NAME`` everywhere."""
    LAZY_COMMANDS[name] = target


class Failure(click.ClickException):
    """A one-line error with its exit status (1: Redis failed, 2: bad usage or input)."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(" ".join(message.split()))
        # click reads the instance's exit_code; click 8.5 declares it on the class only.
        setattr(self, "exit_code", exit_code)


class AnalyticsGroup(click.Group):
    """A group that offers :data:`LAZY_COMMANDS` and turns library errors into exit statuses."""

    def list_commands(self, ctx: click.Context) -> List[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> Optional[click.Command]:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in LAZY_COMMANDS:
            module, _, attribute = LAZY_COMMANDS[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), attribute)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException:
            raise
        except (HostUnavailableError, redis.exceptions.RedisError) as exc:
            raise Failure(str(exc), 1) from None
        except (ValueError, TypeError) as exc:
            raise Failure(str(exc), 2) from None


class Session:
    """Where a command gets its backend: settings to build one from, or an application's own backend.

    ``settings()`` returns the :func:`analytics.create_analytic_backend` dict
    (``None`` when nothing is configured); it is called once, when a command
    first needs it.  ``shared()``, if given, returns an application's backend,
    which the commands use and do not close.
    """

    def __init__(self, settings: Callable[[], Optional[Dict[str, Any]]], shared: Optional[Callable[[], Any]] = None):
        self._read_settings = settings
        self._settings: Optional[Dict[str, Any]] = None
        self._shared = shared
        self._backend: Any = None
        self._owned = False

    @property
    def settings(self) -> Dict[str, Any]:
        """The backend settings; an error (exit 2) saying how to configure when there are none."""
        if self._settings is None:
            found = self._read_settings()
            if found is None:
                raise Failure(NOT_CONFIGURED, 2)
            self._settings = found
        return self._settings

    @property
    def prefix(self) -> str:
        """The key prefix of the backend."""
        return self.settings.get("prefix", DEFAULT_PREFIX)

    @property
    def backend(self) -> Any:
        """The backend, built on first use."""
        if self._backend is None:
            if self._shared is not None:
                self._backend = self._shared()
            else:
                self._backend = create_analytic_backend(self.settings)
                self._owned = True
        return self._backend

    def close(self) -> None:
        """Close the backend if this session built it."""
        if self._owned:
            self._backend.close()
        self._backend, self._owned = None, False


def session() -> Session:
    """The current command's :class:`Session`."""
    ctx = click.get_current_context()
    found = ctx.meta.get(SESSION)
    if found is None:
        raise Failure(NOT_CONFIGURED, 2)
    return found


def use_session(ctx: click.Context, found: Session) -> None:
    """Make ``found`` the session of ``ctx``'s subcommands (closed when ``ctx`` ends)."""
    ctx.meta[SESSION] = found
    ctx.call_on_close(found.close)


class DateType(click.ParamType):
    """A ``YYYY-MM-DD`` date."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: Optional[click.Parameter], ctx: Optional[click.Context]) -> datetime.date:
        if isinstance(value, datetime.date):
            return value
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            self.fail("%r is not a date (YYYY-MM-DD)" % (value,), param, ctx)


DATE = DateType()


def connection_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The ``--url``/``--cluster``/``--settings``/``--prefix``/``--timeout`` options."""
    options = [
        click.option("--url", "urls", multiple=True, metavar="URL",
                     help="A Redis host URL (redis://, rediss://, unix://); repeat it for a host list."),
        click.option("--cluster", metavar="URL", help="A startup node of a Redis Cluster."),
        click.option("--settings", "settings_file", metavar="FILE",
                     help="A JSON (or TOML) file holding the create_analytic_backend settings."),
        click.option("--prefix", help="The key prefix (default _analytics)."),
        click.option("--timeout", type=float, help="Seconds to wait for a host to connect or answer."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.group(cls=AnalyticsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@connection_options
@click.pass_context
def cli(ctx: click.Context, urls: Sequence[str], cluster: Optional[str], settings_file: Optional[str],
        prefix: Optional[str], timeout: Optional[float]) -> None:
    """Per-object counters in Redis, by day, week and month.

    Configure the Redis with --url, --cluster or --settings, or set ANALYTICS_REDIS_URL.
    """
    use_session(ctx, Session(lambda: config.backend_settings(urls, cluster, settings_file, prefix, timeout)))


# -- writing and reading -------------------------------------------------------

@cli.command()
@click.argument("uid")
@click.argument("metric")
@click.option("--date", "day", type=DATE, help="The day to count it on (default today).")
@click.option("--inc", type=int, default=1, show_default=True, help="How much to add.")
def track(uid: str, metric: str, day: Optional[datetime.date], inc: int) -> None:
    """Add to METRIC of UID on a day (and its week, month and all-time count)."""
    day = day or datetime.date.today()
    counts = session().backend.track_metric(uid, metric, day, inc_amt=inc)[0]
    click.echo("%s %s %s: day %d, week %d, month %d, all-time %d" % (uid, metric, day, *counts))


@cli.command()
@click.argument("uid")
@click.argument("metric")
@click.option("--from", "start", type=DATE, help="First day of a range (needs --to).")
@click.option("--to", "end", type=DATE, help="Last day of a range (needs --from).")
def count(uid: str, metric: str, start: Optional[datetime.date], end: Optional[datetime.date]) -> None:
    """The all-time count of METRIC for UID, or its count from --from to --to (both included)."""
    if (start is None) != (end is None):
        raise Failure("give both --from and --to, or neither", 2)
    click.echo(session().backend.get_count(uid, metric, start, end))


def _series_span(by: str, start: Optional[datetime.date], end: Optional[datetime.date],
                 limit: Optional[int]) -> Tuple[datetime.date, int]:
    """The first bucket's date and the number of buckets the options ask for (ending today by default)."""
    if limit is not None and end is not None:
        raise Failure("give --limit or --to, not both", 2)
    if limit is not None and limit < 0:
        raise Failure("--limit must not be negative", 2)
    if start is not None and end is not None:
        if end < start:
            raise Failure("--to %s is before --from %s" % (end, start), 2)
        if by == "day":
            return start, (end - start).days + 1
        if by == "week":
            return start, (buckets.monday_of(end) - buckets.monday_of(start)).days // 7 + 1
        return start, (end.year - start.year) * 12 + end.month - start.month + 1
    size = DEFAULT_LIMITS[by] if limit is None else limit
    if start is not None:
        return start, size
    last = end or datetime.date.today()
    back = max(size - 1, 0)
    if by == "day":
        return buckets.shift(last, -back), size
    if by == "week":
        return buckets.shift(buckets.monday_of(last), -7 * back), size
    return buckets.add_months(buckets.first_of_month(last), -back), size


@cli.command()
@click.argument("uid")
@click.argument("metric")
@click.option("--by", type=click.Choice(["day", "week", "month"]), default="day", show_default=True)
@click.option("--from", "start", type=DATE, help="The first day, week or month (default: the series ends today).")
@click.option("--to", "end", type=DATE, help="The last day, week or month (instead of --limit).")
@click.option("--limit", type=int, help="How many days, weeks or months (default 30 days, 10 weeks or months).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def series(uid: str, metric: str, by: str, start: Optional[datetime.date], end: Optional[datetime.date],
           limit: Optional[int], fmt: str) -> None:
    """The counts of METRIC for UID by day, week or month."""
    first, size = _series_span(by, start, end, limit)
    _, counts = session().backend.get_metrics([(uid, metric)], first, limit=size, group_by=by)[0]
    rows = formats.series_rows(uid, metric, counts)
    out = sys.stdout
    if fmt == "csv":
        formats.write_series_csv(out, rows)
    elif fmt == "json":
        click.echo(json.dumps(formats.series_json(uid, metric, by, rows)))
    else:
        values = [row[3] for row in rows]
        span = "%s .. %s" % (rows[0][0], rows[-1][0]) if rows else "no %ss" % by
        click.echo("%s %s by %s, %s: total %d" % (uid, metric, by, span, sum(values)))
        if rows:
            click.echo(formats.sparkline(values))
        width = max([len("count")] + [len(str(value)) for value in values])
        click.echo("%-10s  %*s" % ("date", width, "count"))
        for day, _, _, value in rows:
            click.echo("%-10s  %*d" % (day, width, value))


# -- listing -------------------------------------------------------------------

@cli.command()
@click.option("--prefix", "uid_prefix", default="", help="Only uids that start with this.")
def uids(uid_prefix: str) -> None:
    """Every uid stored (in no particular order)."""
    backend = session().backend
    seen = set()
    cursor = "0"
    while True:
        cursor, page = backend.scan_uids(prefix=uid_prefix, cursor=cursor, count=1000)
        fresh = [uid for uid in page if uid not in seen]
        seen.update(fresh)
        if fresh:
            click.echo("\n".join(fresh))
        if cursor == "0":
            break


@cli.command()
@click.argument("uid")
def metrics(uid: str) -> None:
    """The metrics stored for UID."""
    for name in session().backend.get_uid_metrics(uid):
        click.echo(name)


# -- export and import ---------------------------------------------------------

def _terminal(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@cli.command("export")
@click.option("--uid-prefix", default="", help="Only uids that start with this.")
@click.option("--from", "start", type=DATE, help="Only days from this one.")
@click.option("--to", "end", type=DATE, help="Only days up to this one.")
@click.option("--format", "fmt", type=click.Choice(["csv", "ndjson"]), default="csv", show_default=True)
@click.option("-o", "--output", type=click.File("w", encoding="utf-8", lazy=False), default="-",
              help="The file to write (default standard output).")
def export_command(uid_prefix: str, start: Optional[datetime.date], end: Optional[datetime.date], fmt: str,
                   output: IO[str]) -> None:
    """Write every stored day count, then every all-time counter, as uid,metric,date,count rows.

    A counter row has an empty date (null in NDJSON) and the absolute all-time count.
    """
    backend = session().backend
    writer = formats.StoredWriter(output, fmt)
    err = sys.stderr
    show = _terminal(err)
    days = counters = 0
    for page in transfer.export_pages(backend, uid_prefix, start, end):
        writer.write(page)
        if page and page[0][2] is None:  # export_pages never mixes day rows and counters in a page
            counters += len(page)
        else:
            days += len(page)
        if show:
            err.write("\rexporting: %d day counts, %d counters" % (days, counters))
            err.flush()
    output.flush()
    if show:
        err.write("\n")
    click.echo("exported %d day counts and %d counters" % (days, counters), err=True)


def _lines_with_progress(handle: IO[str], bar: Any) -> Iterator[str]:
    """``handle``'s lines, moving ``bar`` by the characters read (every 4096 lines)."""
    read = lines = 0
    for line in handle:
        read += len(line)
        lines += 1
        if lines == 4096:
            bar.update(read)
            read = lines = 0
        yield line
    bar.update(read)


def _file_size(handle: IO[str]) -> Optional[int]:
    try:
        return os.fstat(handle.fileno()).st_size or None
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is both of the first two
        return None


@cli.command("import")
@click.argument("source", metavar="FILE", type=click.File("r", encoding="utf-8", lazy=False))
@click.option("--format", "fmt", type=click.Choice(["csv", "ndjson"]),
              help="The file's format (default: NDJSON if it starts with '{', else CSV).")
@click.option("--skip-bad", is_flag=True, help="Report and skip bad rows instead of stopping at the first.")
def import_command(source: IO[str], fmt: Optional[str], skip_bad: bool) -> None:
    """Load an export file, or a uid,metric,date,count CSV of events ('-' reads standard input).

    Day rows are tracked (days, weeks, months and all-time counts); a row with
    an empty date sets the all-time count to its value.  A bad row stops the
    import; the rows before it stay applied.
    """
    backend = session().backend
    err = sys.stderr
    size = _file_size(source) if _terminal(err) else None
    if size is None:
        summary = transfer.import_pages(backend, formats.read_stored_pages(source, fmt), skip_bad=skip_bad)
    else:
        with click.progressbar(length=size, label="importing", file=err) as bar:
            pages = formats.read_stored_pages(_lines_with_progress(source, bar), fmt)
            summary = transfer.import_pages(backend, pages, skip_bad=skip_bad)
    for bad in summary.skipped:
        click.echo("skipped %s" % bad, err=True)
    click.echo("imported %d rows: %d day counts, %d counters set; %d bad rows skipped"
               % (summary.applied, summary.day_rows, summary.counter_rows, len(summary.skipped)))


# -- administration ------------------------------------------------------------

def _host_name(client: Any) -> str:
    kwargs = client.connection_pool.connection_kwargs
    if "path" in kwargs:
        return "unix://%s?db=%s" % (kwargs["path"], kwargs.get("db", 0))
    return "redis://%s:%s/%s" % (kwargs.get("host", "localhost"), kwargs.get("port", 6379), kwargs.get("db", 0))


def _hosts(backend: Any) -> List[Tuple[str, Any]]:
    """``(name, redis.Redis)`` for every node that holds data, from ``get_backend()``."""
    native = backend.get_backend()
    if isinstance(native, redis.cluster.RedisCluster):
        return [("redis://%s" % node.name, native.get_redis_connection(node)) for node in native.get_primaries()]
    clients = [native] if isinstance(native, redis.Redis) else list(native.hosts.values())
    return [(_host_name(client), client) for client in clients]


def _on_host(name: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
        raise Failure("Redis host %s does not answer (%s: %s)" % (name, type(exc).__name__, exc), 1) from None


def _count_keys(name: str, client: Any, prefix: str) -> int:
    pattern = schema.prefix_pattern(prefix)
    return _on_host(name, lambda: sum(1 for _ in client.scan_iter(match=pattern, count=1000)))


@cli.command()
@click.option("--yes", is_flag=True, help="Really delete every key under the prefix.")
def clear(yes: bool) -> None:
    """Delete every key under the prefix, on every host."""
    current = session()
    if not yes:
        raise Failure("clear deletes every key under the prefix %r on every host: add --yes to do it"
                      % current.prefix, 2)
    backend, prefix = current.backend, current.prefix
    hosts = _hosts(backend)
    before = sum(_count_keys(name, client, prefix) for name, client in hosts)
    backend.clear_all()
    after = sum(_count_keys(name, client, prefix) for name, client in hosts)
    click.echo("deleted %d keys under the prefix %r" % (before - after, prefix))


@cli.command()
def check() -> None:
    """Check the settings, that every host answers, and count the keys under the prefix."""
    current = session()
    backend, prefix = current.backend, current.prefix
    click.echo("settings: ok (%s, prefix %r)" % (current.settings.get("backend"), prefix))
    for name, client in _hosts(backend):
        info = _on_host(name, lambda: client.info("server"))
        click.echo("%s: Redis %s, %d keys under the prefix"
                   % (name, info.get("redis_version", "?"), _count_keys(name, client, prefix)))


@cli.command()
def demo() -> None:
    """Track a few metrics and print them back (an embedded Redis unless ANALYTICS_REDIS_URL is set)."""
    from analytics import demo as tour

    tour.main()


def command_group(name: str, start: Callable[[], Session], help: str,
                  wrap: Optional[Callable[[Callable[..., Any]], Callable[..., Any]]] = None) -> AnalyticsGroup:
    """The ``analytics`` commands as a group whose session ``start()`` makes (for framework command lines).

    ``wrap`` decorates the group's callback, e.g. with Flask's ``with_appcontext``.
    """
    def callback() -> None:
        use_session(click.get_current_context(), start())

    return AnalyticsGroup(name, commands=dict(cli.commands), callback=wrap(callback) if wrap else callback, help=help)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """The ``analytics`` console script."""
    cli.main(args=None if argv is None else list(argv), prog_name="analytics")
