"""Test helpers: a backend on a fresh prefix, used by ``analytics.contrib.django.analytics`` meanwhile.

::

    from analytics.contrib.django.testing import analytics_for_tests

    def test_like(client):
        with analytics_for_tests() as backend:
            client.post("/posts/1/like")
            assert backend.get_count("post:1", "likes") == 1

With pytest, add ``pytest_plugins = ["analytics.contrib.django.pytest_plugin"]``
to a ``conftest.py`` and ask for the ``analytics_backend`` fixture.  Only the
test prefix is deleted afterwards.
"""
import contextlib
from typing import Any, Iterator, Optional

from analytics.contrib.django import analytics


@contextlib.contextmanager
def analytics_for_tests(prefix: Optional[str] = None) -> Iterator[Any]:
    """A backend on a fresh prefix (or ``prefix``) that the project's ``analytics`` uses in the block."""
    with analytics.isolated(prefix) as backend:
        yield backend
