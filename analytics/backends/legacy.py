"""The private helpers of py-analytics 0.6.5's ``Redis`` class, kept callable.

0.6.5's own test suite and some applications' subclasses call these methods
directly.  They are rebuilt here on :mod:`analytics.schema` and
:mod:`analytics.buckets`, so each returns exactly what the backend itself
writes and reads.  They are not hooks: the backend never calls them, so
overriding one in a subclass changes nothing it stores (the key layout is fixed,
POLICY K1/K2).
"""
import datetime
from typing import Any, Dict, List, Sequence, Set, Tuple

from analytics import buckets, schema
from analytics.backends import arguments

Date = datetime.date


class LegacyHelpers:
    """0.6.5's ``Redis._get_*``/``_num_*``/``_parse_and_process_metrics`` helpers.

    Calling them works and gives 0.6.5's values for the backend's ``_prefix``.
    Overriding them is not a supported way to change the key layout: the
    backend does not go through them.
    """

    _prefix: str

    def _get_closest_week(self, metric_date: Date) -> Date:
        """The Monday on or before ``metric_date``."""
        return buckets.monday_of(buckets.as_date(metric_date))

    def _get_daily_metric_key(self, unique_identifier: Any, metric_date: Date) -> str:
        """``"<prefix>:user:<uid>:analy:<yy-mm>"``: the hash of the day counts of that month."""
        return schema.month_hash(self._prefix, arguments.one_uid(unique_identifier), buckets.as_date(metric_date))

    def _get_weekly_metric_key(self, unique_identifier: Any, metric_date: Date) -> str:
        """``"<prefix>:user:<uid>:analy:<yy>"``: the hash of the week and month counts of that year."""
        day = buckets.as_date(metric_date)
        return schema.year_hash(self._prefix, arguments.one_uid(unique_identifier), day.year)

    def _get_daily_metric_name(self, metric: Any, metric_date: Date) -> str:
        """``"<metric>:<yy-mm-dd>"``: a day's field."""
        return schema.day_field(arguments.one_metric(metric), buckets.as_date(metric_date))

    def _get_weekly_metric_name(self, metric: Any, metric_date: Date) -> str:
        """``"<metric>:<yy-mm-dd>"`` of the date as given (callers pass the week's Monday)."""
        return schema.week_field(arguments.one_metric(metric), buckets.as_date(metric_date))

    def _get_monthly_metric_name(self, metric: Any, metric_date: Date) -> str:
        """``"<metric>:<yy-mm>"``: a month's field."""
        return schema.month_field(arguments.one_metric(metric), buckets.as_date(metric_date))

    def _get_daily_date_range(self, metric_date: Date, delta: datetime.timedelta) -> List[Date]:
        """``metric_date``, then the first of every later month up to that of ``metric_date + delta``.

        One date per month hash a daily read over that span touches.
        """
        start = buckets.as_date(metric_date)
        end = buckets.shift(start, delta.days)
        return [start] + buckets.months(start, buckets.count_months(start, end))[1:]

    def _get_weekly_date_range(self, metric_date: Date, delta: datetime.timedelta) -> List[Date]:
        """``metric_date``, then January 1 of every later year up to that of ``metric_date + delta``.

        One date per year hash a weekly read over that span touches.
        """
        start = buckets.as_date(metric_date)
        end = buckets.shift(start, delta.days)
        return [start] + [Date(year, 1, 1) for year in range(start.year + 1, end.year + 1)]

    def _parse_and_process_metrics(self, series: Sequence[Date], results: Sequence[Sequence[Any]]
                                   ) -> Tuple[Set[str], Dict[str, int]]:
        """``(set of "YYYY-MM-DD", {date: count})`` from reply lists aligned with ``series``.

        Each reply list holds one value per date of ``series`` (``None`` for a
        missing field); a date's count is the sum over the lists.
        """
        labels = buckets.series_text([buckets.as_date(day) for day in series])
        totals = dict.fromkeys(labels, 0)
        for replies in results:
            for label, value in zip(labels, replies):
                if value is not None:
                    totals[label] += int(value)
        return set(labels), totals

    def _num_weeks(self, start_date: Date, end_date: Date) -> int:
        """How many weeks from ``start_date``'s Monday to ``end_date`` (a partial last one counts)."""
        return buckets.count_weeks(buckets.as_date(start_date), buckets.as_date(end_date))

    def _num_months(self, start_date: Date, end_date: Date) -> int:
        """How many months from ``start_date``'s to ``end_date``'s, both included."""
        return buckets.count_months(buckets.as_date(start_date), buckets.as_date(end_date))
