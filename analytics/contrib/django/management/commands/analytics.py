"""``manage.py analytics ...``: the ``analytics`` command line on the project's settings."""
import argparse
import os
from typing import Any, List

import click
from django.core.management.base import BaseCommand, CommandError  # type: ignore[import-untyped]

from analytics.cli import Session, command_group
from analytics.contrib.django import analytics, project_settings


def _session() -> Session:
    # The prefix the backend really has (a test prefix inside analytics_for_tests()).
    return Session(lambda: dict(project_settings(), prefix=analytics.prefix), shared=analytics.backend_for_process)


commands = command_group("analytics", _session, "Analytics counters of this project (see `analytics --help`).")


class Command(BaseCommand):
    help = "The analytics command line (track, count, series, export, import, check...) on the project's settings."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("arguments", nargs=argparse.REMAINDER, help="An analytics command and its arguments.")

    def run_from_argv(self, argv: List[str]) -> None:
        # click parses the arguments itself (and exits with its own status): the
        # project is already set up by manage.py at this point.
        commands.main(args=argv[2:], prog_name="%s analytics" % os.path.basename(argv[0]))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            commands.main(args=list(options["arguments"]), prog_name="analytics", standalone_mode=False)
        except click.ClickException as exc:
            raise CommandError(exc.format_message(), returncode=exc.exit_code) from None
