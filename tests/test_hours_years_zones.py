"""Hours, years and time zones against in-memory models, on both backends.

The models never call the library: local days and hour labels are worked out
here from UTC instants and offsets written down by hand (Europe/Berlin is
+01:00 in winter and +02:00 in summer, changing at 01:00 UTC on 2026-03-29 and
2026-10-25; Pacific/Kiritimati is +14:00 and Pacific/Pago_Pago -11:00 all year).
"""
import datetime
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import host_settings
from flavours import make_backend

UTC = datetime.timezone.utc
MODEL = settings(max_examples=12, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
BERLIN_CHANGES = (datetime.datetime(2026, 3, 29, 1, tzinfo=UTC), datetime.datetime(2026, 10, 25, 1, tzinfo=UTC))


def berlin_offset(instant):
    """Hours east of UTC in Berlin at ``instant`` (aware, 2026 only)."""
    spring, autumn = BERLIN_CHANGES
    return 2 if spring <= instant < autumn else 1


def berlin_label(instant):
    """The hour label of ``instant`` in Berlin, by hand: local wall hour and its offset."""
    offset = berlin_offset(instant)
    local = (instant + datetime.timedelta(hours=offset)).replace(tzinfo=None)
    return "%sT%02d:00+%02d:00" % (local.date().isoformat(), local.hour, offset)


@pytest.fixture
def backends(flushed, flavour):
    made = []

    def build(**options):
        # Hours expire 14 days after they end by default: these tests look at older ones.
        options.setdefault("retention", {"hour": None})
        backend = make_backend(flavour, host_settings(flushed, [3, 4, 5]), **options)
        made.append(backend)
        return backend

    yield build
    for backend in made:
        backend.store.close()


def test_the_25_hour_day_and_the_23_hour_day_of_berlin(backends):
    backend = backends(hours=True, timezone="Europe/Berlin")
    autumn = ["2026-10-25T00:00+02:00", "2026-10-25T01:00+02:00", "2026-10-25T02:00+02:00",
              "2026-10-25T02:00+01:00"] + ["2026-10-25T%02d:00+01:00" % h for h in range(3, 24)]
    spring = ["2026-03-29T00:00+01:00", "2026-03-29T01:00+01:00"] + [
        "2026-03-29T%02d:00+02:00" % h for h in range(3, 24)]
    # One event in each of the two 02:00 hours: 00:30 and 01:30 UTC.
    backend.track_metric("u", "m", datetime.datetime(2026, 10, 25, 0, 30, tzinfo=UTC))
    backend.track_metric("u", "m", datetime.datetime(2026, 10, 25, 1, 30, tzinfo=UTC), inc_amt=5)
    labels, counts = backend.get_metric_by_hour("u", "m", datetime.date(2026, 10, 25), limit=25)
    assert sorted(labels) == sorted(autumn) and list(counts) == autumn
    assert counts["2026-10-25T02:00+02:00"] == 1 and counts["2026-10-25T02:00+01:00"] == 5
    assert sum(counts.values()) == 6
    labels, counts = backend.get_metric_by_hour("u", "m", datetime.date(2026, 3, 29), limit=23)
    assert list(counts) == spring
    # A naive time in the spring gap (02:30 does not exist) counts in the hour after it.
    backend.track_metric("u", "m", datetime.datetime(2026, 3, 29, 2, 30))
    assert backend.get_metric_by_hour("u", "m", datetime.datetime(2026, 3, 29, 3, 59), limit=1)[1] == {
        "2026-03-29T03:00+02:00": 1}


def test_hours_without_a_time_zone_are_the_wall_clock_as_given(backends):
    backend = backends(hours=True)
    backend.track_metric("u", "m", datetime.datetime(2026, 10, 25, 2, 15))
    backend.track_metric("u", "m", datetime.datetime(2026, 10, 25, 2, 45, tzinfo=datetime.timezone(
        datetime.timedelta(hours=5))))
    backend.track_metric("u", "m", datetime.date(2026, 10, 25))  # a date alone adds no hour
    series = backend.get_metric_by_hour("u", "m", datetime.datetime(2026, 10, 25, 1), limit=3)
    assert list(series[1].items()) == [("2026-10-25T01:00+00:00", 0), ("2026-10-25T02:00+00:00", 2),
                                       ("2026-10-25T03:00+00:00", 0)]
    assert backend.get_metric_by_day("u", "m", datetime.date(2026, 10, 25), limit=1)[1] == {"2026-10-25": 3}


instants = st.datetimes(min_value=datetime.datetime(2026, 3, 27), max_value=datetime.datetime(2026, 3, 31)) | \
    st.datetimes(min_value=datetime.datetime(2026, 10, 23), max_value=datetime.datetime(2026, 10, 27))


@MODEL
@given(events=st.lists(st.tuples(instants, st.integers(1, 9), st.sampled_from(["a", "b"])), min_size=1, max_size=30),
       bulk=st.booleans())
def test_hours_model_across_berlin_dst(backends, flushed, events, bulk):
    flushed.client().flushall()
    backend = backends(hours=True, timezone="Europe/Berlin")
    tracked = [(naive.replace(tzinfo=UTC), amount, metric) for naive, amount, metric in events]
    if bulk:
        backend.track_metrics(("u", metric, instant, amount) for instant, amount, metric in tracked)
    else:
        for instant, amount, metric in tracked:
            backend.track_metric("u", metric, instant, inc_amt=amount)
    for metric in ("a", "b"):
        hours, days = Counter(), Counter()
        for instant, amount, name in tracked:
            if name == metric:
                hours[berlin_label(instant)] += amount
                days[(instant + datetime.timedelta(hours=berlin_offset(instant))).date().isoformat()] += amount
        for first in (datetime.date(2026, 3, 27), datetime.date(2026, 10, 23)):
            # 5 local days: 24 * 5 hours, less one in spring, plus one in autumn.
            limit = 119 if first.month == 3 else 121
            labels, counts = backend.get_metric_by_hour("u", metric, first, limit=limit)
            assert list(counts)[0] == "%sT00:00+%s:00" % (first.isoformat(), "01" if first.month == 3 else "02")
            assert list(counts)[-1] == "%sT23:00+%s:00" % ((first + datetime.timedelta(days=4)).isoformat(),
                                                          "02" if first.month == 3 else "01")
            assert {k: v for k, v in counts.items() if v} == {k: v for k, v in hours.items() if k[:7] == first.isoformat()[:7]}
            assert {k: v for k, v in backend.get_metric_by_day("u", metric, first, limit=5)[1].items() if v} == \
                {k: v for k, v in days.items() if k[:7] == first.isoformat()[:7]}


@MODEL
@given(events=st.lists(st.tuples(st.dates(datetime.date(2023, 6, 1), datetime.date(2027, 6, 30)), st.integers(-3, 9)),
                       min_size=1, max_size=40),
       first=st.dates(datetime.date(2022, 1, 1), datetime.date(2027, 12, 31)), limit=st.integers(0, 6))
def test_years_model(backends, flushed, events, first, limit):
    flushed.client().flushall()
    backend = backends(years=True)
    backend.track_metrics(("u", "m", day, amount) for day, amount in events)
    per_year = Counter()
    for day, amount in events:
        per_year[day.year] += amount
    expected = {"%04d-01-01" % year: per_year[year] for year in range(first.year, first.year + limit)}
    assert backend.get_metric_by_year("u", "m", first, limit=limit) == (set(expected), expected)
    assert backend.get_metrics([("u", "m"), ("v", "m")], first, limit=limit, group_by="Year") == [
        (set(expected), expected), (set(expected), dict.fromkeys(expected, 0))]


def test_group_by_year_needs_the_years_option_and_hour_the_hours_option(backends):
    plain = backends()
    plain.track_metric("u", "m", datetime.date(2026, 5, 5), inc_amt=4)
    with pytest.raises(ValueError, match="years=True"):
        plain.get_metrics([("u", "m")], datetime.date(2026, 1, 1), group_by="year")
    with pytest.raises(ValueError, match="hours=True"):
        plain.get_metrics([("u", "m")], datetime.date(2026, 1, 1), group_by="hour")
    with pytest.raises(ValueError, match="hours=True"):
        plain.get_metric_by_hour("u", "m", datetime.date(2026, 1, 1))
    # get_metric_by_year needs no option: it reads the month counts every backend writes.
    assert plain.get_metric_by_year("u", "m", datetime.date(2026, 7, 1), limit=1) == ({"2026-01-01"}, {"2026-01-01": 4})
    hourly = backends(hours=True)
    hourly.track_metric("u", "m", datetime.datetime(2026, 5, 5, 7, 10))
    assert hourly.get_metrics([("u", "m")], datetime.datetime(2026, 5, 5, 7), limit=2, group_by="HOUR") == [
        ({"2026-05-05T07:00+00:00", "2026-05-05T08:00+00:00"},
         {"2026-05-05T07:00+00:00": 1, "2026-05-05T08:00+00:00": 0})]


ZONES = {"Pacific/Kiritimati": 14, "Pacific/Pago_Pago": -11}


@MODEL
@given(events=st.lists(st.tuples(st.datetimes(datetime.datetime(2026, 6, 28), datetime.datetime(2026, 7, 3)),
                                 st.booleans()), min_size=1, max_size=25))
def test_time_zones_across_the_date_line(backends, flushed, events):
    flushed.client().flushall()
    for zone, offset in ZONES.items():
        backend = backends(timezone=zone, prefix=zone.replace("/", "-"))
        days = Counter()
        for value, aware in events:
            # An aware datetime is converted into the zone; a naive one is already its wall clock.
            instant = value.replace(tzinfo=UTC) if aware else value
            backend.track_metric("u", "m", instant)
            local = value + datetime.timedelta(hours=offset) if aware else value
            days[local.date().isoformat()] += 1
        first = datetime.date(2026, 6, 26)
        counts = backend.get_metric_by_day("u", "m", first, limit=10)[1]
        assert {k: v for k, v in counts.items() if v} == dict(days)
        # Range bounds are converted too: a UTC instant names the zone's day it falls on.
        start = datetime.datetime(2026, 6, 29, 12, tzinfo=UTC)
        start_day = (start + datetime.timedelta(hours=offset)).date()
        expected = sum(v for k, v in days.items() if k >= start_day.isoformat() and k <= "2026-07-01")
        assert backend.get_count("u", "m", start, datetime.date(2026, 7, 1)) == expected


def test_none_means_now_in_the_zone(backends):
    for zone, offset in ZONES.items():
        backend = backends(timezone=zone, prefix=zone.replace("/", "-"))
        before = (datetime.datetime.now(UTC) + datetime.timedelta(hours=offset)).date()
        backend.track_metric("u", "m")
        after = (datetime.datetime.now(UTC) + datetime.timedelta(hours=offset)).date()
        counts = backend.get_metric_by_day("u", "m", before, limit=(after - before).days + 1)[1]
        assert sum(counts.values()) == 1 and counts[before.isoformat()] + counts[after.isoformat()] >= 1
