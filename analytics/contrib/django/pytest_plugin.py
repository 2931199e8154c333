"""The ``analytics_backend`` pytest fixture (with pytest-django, or any configured Django settings).

Enable it with ``pytest_plugins = ["analytics.contrib.django.pytest_plugin"]`` in a ``conftest.py``.
"""
from typing import Any, Iterator

import pytest

from analytics.contrib.django.testing import analytics_for_tests


@pytest.fixture
def analytics_backend() -> Iterator[Any]:
    """A backend on a fresh prefix, used by ``analytics.contrib.django.analytics`` during the test, then cleared."""
    with analytics_for_tests() as backend:
        yield backend
