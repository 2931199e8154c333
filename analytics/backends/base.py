"""The API every analytics backend offers (the contract of py-analytics 0.6.x)."""
import datetime
from typing import Any, Iterable, List, Optional, Set, Tuple, Union

from analytics.backends import arguments

Date = Union[datetime.date, datetime.datetime]
#: ``(set of "YYYY-MM-DD", {"YYYY-MM-DD": count})``
Series = Tuple[Set[str], dict]


class BaseAnalyticsBackend:
    """Base class of analytics backends.

    ``prefix`` (keyword) starts every key the backend writes; it defaults to the
    class attribute :attr:`_prefix`, ``"_analytics"``.
    """

    _prefix = "_analytics"

    def __init__(self, settings: Any = None, **kwargs: Any):
        self._settings = settings
        self._prefix = arguments.prefix(kwargs.pop("prefix", self._prefix))
        self._analytics_backend: Any = None

    def get_backend(self) -> Any:
        """The storage object the backend talks to (for the Redis backend, a nydus-like cluster)."""
        return self._analytics_backend

    def track_metric(self, unique_identifier: Any, metric: Any, date: Optional[Date] = None,
                     inc_amt: int = 1, **kwargs: Any) -> Any:
        """Add ``inc_amt`` to the day, week, month and all-time counts of each (uid, metric)."""
        raise NotImplementedError

    def track_count(self, unique_identifier: Any, metric: Any, inc_amt: int = 1, **kwargs: Any) -> Any:
        """Add ``inc_amt`` to the all-time count only."""
        raise NotImplementedError

    def get_metric_by_day(self, unique_identifier: Any, metric: Any, from_date: Date, limit: int = 30,
                          **kwargs: Any) -> Series:
        """``limit`` daily counts starting at ``from_date``."""
        raise NotImplementedError

    def get_metric_by_week(self, unique_identifier: Any, metric: Any, from_date: Date, limit: int = 10,
                           **kwargs: Any) -> Series:
        """``limit`` weekly counts starting at the Monday on or before ``from_date``."""
        raise NotImplementedError

    def get_metric_by_month(self, unique_identifier: Any, metric: Any, from_date: Date, limit: int = 10,
                            **kwargs: Any) -> Series:
        """``limit`` monthly counts starting at ``from_date``'s month."""
        raise NotImplementedError

    def get_metrics(self, metric_identifiers: Iterable[Tuple[Any, Any]], from_date: Date, limit: int = 10,
                    group_by: str = "week", **kwargs: Any) -> List[Series]:
        """One series per ``(uid, metric)``, grouped by ``"day"``, ``"week"`` or ``"month"``."""
        raise NotImplementedError

    def get_count(self, unique_identifier: Any, metric: Any, start_date: Optional[Date] = None,
                  end_date: Optional[Date] = None, **kwargs: Any) -> int:
        """The all-time count, or the count between two dates (both included)."""
        raise NotImplementedError

    def get_counts(self, metric_identifiers: Iterable[Tuple[Any, Any]], **kwargs: Any) -> List[int]:
        """:meth:`get_count` for each ``(uid, metric)``, with the same keyword arguments."""
        raise NotImplementedError

    def set_metric_by_day(self, unique_identifier: Any, metric: Any, date: Date, count: int,
                          sync_agg: bool = True, update_counter: bool = True) -> Any:
        """Overwrite a day's count; optionally re-sync its week and month and the all-time count."""
        raise NotImplementedError

    def sync_agg_metric(self, unique_identifier: Any, metric: Any, start_date: Date, end_date: Date) -> None:
        """Recompute the weekly and monthly counts between two dates from the daily ones."""
        raise NotImplementedError

    def sync_week_metric(self, unique_identifier: Any, metric: Any, start_date: Date, end_date: Date) -> None:
        """Recompute the weekly counts between two dates from the daily ones."""
        raise NotImplementedError

    def sync_month_metric(self, unique_identifier: Any, metric: Any, start_date: Date, end_date: Date) -> None:
        """Recompute the monthly counts between two dates from the daily ones."""
        raise NotImplementedError

    def clear_all(self) -> None:
        """Delete every key of this backend's prefix."""
        raise NotImplementedError
