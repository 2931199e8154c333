"""Every key and field name, checked against hand-written names and the 0.6.5 vectors."""
import datetime

import pytest

import compat_replay as cr

from analytics import schema

D = datetime.date
P = "_analytics"


def test_key_names():
    assert schema.month_hash(P, "user:1234", D(2012, 12, 1)) == "_analytics:user:user:1234:analy:12-12"
    assert schema.month_hash("myapp", "5678", D(2013, 1, 31)) == "myapp:user:5678:analy:13-01"
    assert schema.year_hash(P, "user:1234", 2013) == "_analytics:user:user:1234:analy:13"
    assert schema.counter_key(P, "1234", "badge:25") == "_analytics:analy:1234:count:badge:25"


@pytest.mark.parametrize("prefix", [P, "100%", "a%sb", "%(x)s:%d", "{x}", ""])
def test_key_names_take_any_prefix_uid_and_metric_text_as_it_is(prefix):
    assert schema.user_hash(prefix, "user:%s", "12-12") == prefix + ":user:user:%s:analy:12-12"
    assert schema.counter_key(prefix, "u%d", "badge:25") == prefix + ":analy:u%d:count:badge:25"
    assert schema.user_hash(prefix, "{0}", "13") == prefix + ":user:{0}:analy:13"
    assert schema.counter_key(prefix, "\u00e9", "{m}") == prefix + ":analy:\u00e9:count:{m}"
    assert schema.hour_hash(prefix, "u%s", "2026-12-07") == prefix + ":hour:u%s:2026-12-07"
    assert schema.unique_anchor(prefix, "u{1}", "m") == prefix + ":uniq:{4:u{1}:m}"


@pytest.mark.parametrize("year, text", [(2012, "12"), (1912, "12"), (2005, "05"), (2000, "00"), (1999, "99")])
def test_two_digit_years(year, text):
    assert schema.yy(D(year, 6, 4)) == text
    assert schema.year_hash(P, "u", year) == "_analytics:user:u:analy:" + text
    assert schema.month_hash(P, "u", D(year, 6, 4)) == "_analytics:user:u:analy:%s-06" % text


def test_field_names():
    assert schema.day_field("m", D(2012, 2, 29)) == "m:12-02-29"
    assert schema.week_field("comments", D(2012, 12, 31)) == "comments:12-12-31"
    assert schema.month_field("comments", D(2013, 1, 1)) == "comments:13-01"
    assert schema.yy_mm(D(2012, 1, 5)) == "12-01"
    assert schema.yy_mm_dd(D(2012, 1, 5)) == "12-01-05"


def test_text_formats_like_percent_s():
    assert schema.text("user:1234") == "user:1234"
    assert schema.text(1234) == "1234"
    assert schema.text(-7) == "-7"
    assert schema.text("üser") == "üser"
    assert schema.text("üser".encode("utf-8")) == "üser"


@pytest.mark.parametrize("prefix, pattern", [
    ("_analytics", "_analytics:*"),
    ("myapp", "myapp:*"),
    ("a*b", "a\\*b:*"),
    ("[x]?", "\\[x\\]\\?:*"),
    ("back\\slash", "back\\\\slash:*"),
])
def test_prefix_pattern(prefix, pattern):
    assert schema.prefix_pattern(prefix) == pattern


def test_names_match_the_layout_vectors():
    """track_metric("user:1234", "comments", 2012-06-15) as 0.6.5 stored it (Monday 2012-06-11)."""
    scenario = next(cr.scenarios("one_host"))
    assert scenario["name"] == "track_metric_single"
    day, monday = D(2012, 6, 15), D(2012, 6, 11)
    expected = {
        schema.month_hash(P, "user:1234", day): {"type": "hash", "value": {schema.day_field("comments", day): "2"}},
        schema.year_hash(P, "user:1234", 2012): {"type": "hash", "value": {
            schema.week_field("comments", monday): "2", schema.month_field("comments", day): "2"}},
        schema.counter_key(P, "user:1234", "comments"): {"type": "string", "value": "2"},
    }
    assert scenario["results"]["one_host"]["final_hosts"] == [expected]


def test_names_appear_in_the_ring_vectors():
    keys = set(cr.load("ring")["keys"])
    assert schema.month_hash(P, "user:1234", D(2012, 1, 1)) in keys
    assert schema.year_hash(P, "user:1234", 2012) in keys
    assert schema.counter_key(P, "1234", "badge:25") in keys
