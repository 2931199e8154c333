"""Issue 14, E and I: int subclasses, floats, undecodable text and prefixes, on both wire paths."""
import datetime
import enum

import pytest
import redis
from redis._parsers import _RESP2Parser

from analytics import schema
from analytics.backends.dummy import Dummy
from analytics.backends.redis import Redis
from analytics.stores import redispy

DAY = datetime.date(2012, 6, 15)  # a Friday; its Monday is 2012-06-11


class Amount(enum.IntEnum):
    THREE = 3


class Kind(enum.IntEnum):
    SEVEN = 7


@pytest.fixture(params=["hiredis", "pure-python"])
def wire(request, flushed, monkeypatch):
    """A backend on db 2 over the hiredis packer and parser, or redis-py's own ones."""
    if request.param == "hiredis":
        pytest.importorskip("hiredis")
        assert redispy._hiredis_pack is not None
        client = redis.Redis(host="127.0.0.1", port=flushed.port, db=2, decode_responses=True)
    else:
        monkeypatch.setattr(redispy, "_hiredis_pack", None)
        pool = redis.ConnectionPool(host="127.0.0.1", port=flushed.port, db=2, decode_responses=True,
                                    parser_class=_RESP2Parser)
        client = redis.Redis(connection_pool=pool)
    yield Redis({"client": client}), flushed.client(2)
    client.close()


def stored(plain):
    return {key: (plain.hgetall(key) if plain.type(key) == "hash" else plain.get(key)) for key in plain.keys("*")}


def test_int_subclass_amounts_are_their_value(wire):
    backend, plain = wire
    assert backend.track_metric("u", "m", DAY, inc_amt=Amount.THREE) == [[3, 3, 3, 3]]
    assert backend.track_count("u", "n", inc_amt=Amount.THREE) == 3
    assert backend.track_metrics([("u", "b", DAY, Amount.THREE)], chunk_size=Amount.THREE) == 1
    assert backend.set_metric_by_day("u", "s", DAY, Amount.THREE) == [[1]]
    assert stored(plain) == {
        "_analytics:user:u:analy:12-06": {"m:12-06-15": "3", "b:12-06-15": "3", "s:12-06-15": "3"},
        "_analytics:user:u:analy:12": {"m:12-06-11": "3", "m:12-06": "3", "b:12-06-11": "3", "b:12-06": "3",
                                       "s:12-06-11": "3", "s:12-06": "3"},
        "_analytics:analy:u:count:m": "3", "_analytics:analy:u:count:n": "3",
        "_analytics:analy:u:count:b": "3", "_analytics:analy:u:count:s": "3",
    }
    series, counts = backend.get_metric_by_day("u", "m", DAY, limit=Amount.THREE)
    assert counts == {"2012-06-15": 3, "2012-06-16": 0, "2012-06-17": 0}


@pytest.mark.parametrize("call", [
    lambda b: b.track_metric("u", "m", DAY, inc_amt=True),
    lambda b: b.track_count("u", "m", inc_amt=False),
    lambda b: b.track_metrics([("u", "m", DAY, True)]),
    lambda b: b.track_metrics([("u", "m", DAY)], chunk_size=True),
    lambda b: b.set_metric_by_day("u", "m", DAY, True),
    lambda b: b.get_metric_by_day("u", "m", DAY, limit=True),
], ids=["track_metric", "track_count", "track_metrics", "chunk_size", "set_metric_by_day", "limit"])
def test_bools_are_still_refused(wire, call):
    backend, plain = wire
    with pytest.raises(TypeError):
        call(backend)
    assert plain.dbsize() == 0


def test_int_subclass_uid_and_metric_are_the_integer_text(wire):
    backend, plain = wire
    backend.track_metric(Kind.SEVEN, Amount.THREE, DAY)
    backend.track_metrics([(Kind.SEVEN, Amount.THREE, DAY)])
    assert sorted(plain.keys("*")) == ["_analytics:analy:7:count:3", "_analytics:user:7:analy:12",
                                       "_analytics:user:7:analy:12-06"]
    assert backend.get_count(7, 3) == 2 and backend.get_count("7", "3") == 2


BAD_BYTES = b"\xff\xfeuser"


@pytest.mark.parametrize("call, named", [
    (lambda b: b.track_metric(BAD_BYTES, "m", DAY), "unique_identifier"),
    (lambda b: b.track_metric("u", ["ok", BAD_BYTES], DAY), "metric"),
    (lambda b: b.track_count("u", bytearray(BAD_BYTES)), "metric"),
    (lambda b: b.track_metrics([("u", "m", DAY), (BAD_BYTES, "m", DAY)]), r"events\[1\]: unique_identifier"),
    (lambda b: b.track_metrics([("u", BAD_BYTES, DAY)]), r"events\[0\]: metric"),
    (lambda b: b.get_count(BAD_BYTES, "m"), "unique_identifier"),
    (lambda b: b.get_metrics([("u", BAD_BYTES)], DAY), "metric"),
    (lambda b: b.set_metric_by_day(BAD_BYTES, "m", DAY, 2), "unique_identifier"),
    (lambda b: b.sync_agg_metric("u", BAD_BYTES, DAY, DAY), "metric"),
], ids=["track_metric uid", "track_metric metric", "track_count", "track_metrics uid", "track_metrics metric",
        "get_count", "get_metrics", "set_metric_by_day", "sync_agg_metric"])
def test_undecodable_bytes_raise_value_error_naming_the_argument(wire, call, named):
    backend, plain = wire
    with pytest.raises(ValueError, match=named) as caught:
        call(backend)
    assert type(caught.value) is ValueError and "UTF-8" in str(caught.value)
    assert plain.dbsize() == 0


def test_valid_utf8_bytes_are_their_text(wire):
    backend, plain = wire
    backend.track_count("caf\xe9".encode("utf-8"), b"m")
    backend.track_metrics([("caf\xe9".encode("utf-8"), b"m", DAY)])
    assert plain.get("_analytics:analy:caf\xe9:count:m") == "2"


@pytest.mark.parametrize("cls", [Redis, Dummy])
@pytest.mark.parametrize("prefix", ["app\ud800", "\udfff"])
def test_a_prefix_with_a_lone_surrogate_is_refused_when_built(one_host, cls, prefix):
    with pytest.raises(ValueError, match="prefix"):
        cls(one_host, prefix=prefix)


# Python 2.7's str(float), by hand: '%.12g', then '.0' where the result holds only digits.
@pytest.mark.parametrize("value, text", [
    (2 ** 0.5, "1.41421356237"),
    (1 / 3.0, "0.333333333333"),
    (2 / 3.0, "0.666666666667"),
    (1.0, "1.0"),
    (-1.0, "-1.0"),
    (100.0, "100.0"),
    (0.1, "0.1"),
    (-2.5, "-2.5"),
    (1e16, "1e+16"),
    (1e11, "100000000000.0"),   # 12 digits still fit
    (1e12, "1e+12"),            # the 13th digit switches to exponent form
    (123456789012.0, "123456789012.0"),
    (1234567890123.0, "1.23456789012e+12"),
    (3.14159265358979, "3.14159265359"),
    (0.0001, "0.0001"),
    (0.00001, "1e-05"),         # exponent below -4
    (1.5e-7, "1.5e-07"),
    (0.0, "0.0"),
    (-0.0, "-0.0"),
    (float("inf"), "inf"),
    (float("-inf"), "-inf"),
    (float("nan"), "nan"),
])
def test_floats_are_formatted_as_python_2_did(value, text):
    assert schema.text(value) == text


def test_float_uids_and_metrics_make_python_2_keys(wire):
    backend, plain = wire
    backend.track_count(2 ** 0.5, 1.0)
    backend.track_metrics([(1 / 3.0, 1e16, DAY)])
    assert plain.get("_analytics:analy:1.41421356237:count:1.0") == "1"
    assert plain.get("_analytics:analy:0.333333333333:count:1e+16") == "1"


class Labelled(int):
    def __str__(self):
        return "label"


def test_int_text_is_the_same_on_every_python():
    # str() of an IntEnum member is "Amount.THREE" before Python 3.11 and "3" from 3.11 on.
    assert schema.text(Amount.THREE) == "3"
    assert schema.text(Labelled(5)) == "5"
    assert schema.text(-(2 ** 70)) == str(-(2 ** 70))
