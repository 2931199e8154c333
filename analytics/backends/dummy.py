"""A backend that accepts every call and stores nothing (for tests and for switching analytics off)."""
from typing import Any

from analytics.backends.base import BaseAnalyticsBackend


class Dummy(BaseAnalyticsBackend):
    """Every method accepts the same arguments as the Redis backend and returns ``None``."""

    def __init__(self, settings: Any = None, **kwargs: Any):
        super().__init__(settings, **kwargs)

    def _nothing(self, *args: Any, **kwargs: Any) -> None:
        return None

    track_metric = track_count = _nothing  # type: ignore[assignment]
    get_metric_by_day = get_metric_by_week = get_metric_by_month = _nothing  # type: ignore[assignment]
    get_metrics = get_count = get_counts = _nothing  # type: ignore[assignment]
    set_metric_by_day = sync_agg_metric = sync_week_metric = sync_month_metric = _nothing  # type: ignore[assignment]
    clear_all = _nothing  # type: ignore[assignment]
