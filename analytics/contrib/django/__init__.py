"""Django integration: add ``"analytics.contrib.django"`` to ``INSTALLED_APPS``.

Settings: ``ANALYTICS = {"backend": ..., "settings": {...}, "prefix": ...}`` (the
:func:`analytics.create_analytic_backend` dict), or the short
``ANALYTICS_URL = "redis://localhost:6379/0"`` (comma-separated URLs or a list
for a host list) with an optional ``ANALYTICS_PREFIX``; with neither,
``$ANALYTICS_REDIS_URL``.  Then::

    from analytics.contrib.django import analytics

    analytics.track_metric(request.user.pk, "logins")

and in async views ``from analytics.contrib.django import aanalytics`` and
``await aanalytics.track_metric(...)``.

``analytics`` is built on first use in each process (again in a forked worker).
``manage.py check`` reports bad settings, ``manage.py analytics ...`` runs the
``analytics`` command line on them, and :mod:`analytics.contrib.django.testing`
gives tests a backend on a fresh prefix.
"""
from typing import Any, Dict

from analytics.contrib import LazyAsyncBackend, LazyBackend, framework_settings


def project_settings() -> Dict[str, Any]:
    """The backend settings of the Django project (raises ``ConfigurationError`` when there are none)."""
    from django.conf import settings  # type: ignore[import-untyped]

    return framework_settings(getattr(settings, "ANALYTICS", None), getattr(settings, "ANALYTICS_URL", None),
                              getattr(settings, "ANALYTICS_PREFIX", None), "the Django settings")


#: The project's backend, built on first use in each process.
analytics = LazyBackend(project_settings)

#: The project's asyncio backend for async views (``await aanalytics.track_metric(...)``),
#: built on first use in each event loop; it follows :func:`analytics_for_tests`' prefix too.
aanalytics = LazyAsyncBackend(lambda: dict(project_settings(), prefix=analytics.prefix))
