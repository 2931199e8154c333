"""``manage.py check``: the ``ANALYTICS`` settings must describe a backend the library can build."""
from typing import Any, List

from django.core import checks  # type: ignore[import-untyped]

from analytics.contrib import check_settings
from analytics.errors import HostUnavailableError


def check_analytics_settings(app_configs: Any = None, **kwargs: Any) -> List[checks.CheckMessage]:
    """``analytics.E001`` when the settings are wrong; ``analytics.W001`` when a cluster does not answer."""
    from analytics.contrib.django import project_settings

    try:
        check_settings(project_settings())
    except HostUnavailableError as exc:
        # Only a cluster is contacted when built; a host list opens no connection.
        return [checks.Warning(str(exc), hint="Is the Redis Cluster running?", id="analytics.W001")]
    except (ValueError, TypeError, ImportError) as exc:
        return [checks.Error(str(exc), hint="See the Settings section of the analytics README.",
                             obj="settings.ANALYTICS", id="analytics.E001")]
    return []
