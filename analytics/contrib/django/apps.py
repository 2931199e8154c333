"""The Django app: registers the settings check and follows settings changes (``override_settings``)."""
from typing import Any

from django.apps import AppConfig  # type: ignore[import-untyped]
from django.core import checks  # type: ignore[import-untyped]
from django.core.signals import setting_changed  # type: ignore[import-untyped]

SETTINGS = ("ANALYTICS", "ANALYTICS_URL", "ANALYTICS_PREFIX")


def _settings_changed(setting: str, **kwargs: Any) -> None:
    if setting in SETTINGS:
        from analytics.contrib.django import aanalytics, analytics

        analytics.reset()
        aanalytics.reset()


class AnalyticsConfig(AppConfig):
    name = "analytics.contrib.django"
    label = "analytics"
    verbose_name = "Analytics"

    def ready(self) -> None:
        from analytics.contrib.django.checks import check_analytics_settings

        checks.register(check_analytics_settings, checks.Tags.compatibility)
        setting_changed.connect(_settings_changed, dispatch_uid="analytics.contrib.django.settings_changed")
