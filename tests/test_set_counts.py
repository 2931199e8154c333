"""set_counts: all-time counts written with SET, never read first, in chunks, on every store and both flavours."""
import datetime

import pytest

from analytics import plans
from analytics.plans.steps import Batch, Keyspace, Take
from conftest import host_settings
from flavours import make_backend
from test_round_trips import ONE, THREE, counting, dbs_with_keys

DAY = datetime.date(2026, 3, 4)


def test_the_plan_sets_each_counter_once_with_its_last_count():
    plan = plans.set_counts(Keyspace("p"), [("u1", "m", 5), ("u2", "m", -3), ("u1", "m", 7), ["u3", 9, 0]],
                            chunk_size=10)
    step = next(plan)
    assert type(step) is Take and step.size == 10
    step = plan.send([("u1", "m", 5), ("u2", "m", -3), ("u1", "m", 7), ["u3", 9, 0]])
    assert type(step) is Take and step.size == 6
    step = plan.send([])  # the input has ended
    assert type(step) is Batch and not step.replies and not step.atomic
    assert step.commands == [("SET", "p:analy:u1:count:m", 7), ("SET", "p:analy:u2:count:m", -3),
                             ("SET", "p:analy:u3:count:9", 0)]
    with pytest.raises(StopIteration) as done:
        plan.send(None)
    assert done.value.value == 4


@pytest.mark.parametrize("item, error, message", [
    (("u", "m"), TypeError, "counts[1]: a count must be a (uid, metric, count) tuple"),
    ("abc", TypeError, "counts[1]: a count must be a (uid, metric, count) tuple"),
    (("", "m", 1), ValueError, "counts[1]: unique_identifier"),
    (("u", None, 1), ValueError, "counts[1]: metric must not be None"),
    (("u", "m", 1.5), TypeError, "counts[1]: count must be an int"),
    (("u", "m", True), TypeError, "counts[1]: count must be an int"),
    (("u", "m", 2 ** 63), ValueError, "counts[1]: count must fit in a signed 64-bit integer"),
])
def test_an_invalid_item_is_named_before_its_chunk_is_sent(item, error, message):
    plan = plans.set_counts(Keyspace("p"), iter([("u", "m", 1), item]))
    next(plan)
    with pytest.raises(error) as raised:
        plan.send([("u", "m", 1), item])
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize("counts, error", [("uid,m,3", TypeError), ({"u": 1}, TypeError), (5, TypeError)])
def test_counts_must_be_an_iterable_of_items(counts, error):
    with pytest.raises(error, match="counts must be an iterable of"):
        next(plans.set_counts(Keyspace("p"), counts))


@pytest.fixture(params=[ONE, THREE], ids=["1 host", "3 hosts"])
def hosts(request, flushed, flavour):
    backend = make_backend(flavour, host_settings(flushed, request.param))
    yield flushed, request.param, backend
    backend.store.close()


def test_counts_are_replaced_and_days_left_alone(hosts):
    _, _, backend = hosts
    backend.track_metric(["u1", "u2"], "views", DAY, inc_amt=4)
    backend.track_count("u3", "logins", 9)
    assert backend.set_counts([("u1", "views", 100), ("u3", "logins", 2), ("u4", "new", -5)]) == 3
    assert backend.get_counts([("u1", "views"), ("u2", "views"), ("u3", "logins"), ("u4", "new")]) == [100, 4, 2, -5]
    # The day, week and month counts are the tracked ones still.
    assert backend.get_count("u1", "views", DAY, DAY) == 4
    assert backend.get_metric_by_week("u1", "views", DAY, 1)[1] == {"2026-03-02": 4}
    # Counters set this way keep counting.
    backend.track_metric("u4", "new", DAY)
    assert backend.get_count("u4", "new") == -4


def test_a_generator_is_read_a_chunk_at_a_time_and_earlier_chunks_stay_applied(hosts):
    _, _, backend = hosts

    def items():
        for i in range(25):
            yield ("u%d" % i, "m", i)
        yield ("u25", "m", "not a count")

    with pytest.raises(TypeError, match=r"counts\[25\]: count must be an int"):
        backend.set_counts(items(), chunk_size=10)
    # Chunks 0-9 and 10-19 were sent; the one holding the bad item was not.
    assert backend.get_counts([("u%d" % i, "m") for i in range(26)]) == list(range(20)) + [0] * 6


def test_one_round_trip_per_host_per_chunk_and_nothing_read(hosts):
    server, dbs, backend = hosts
    with counting(backend, server) as counts:
        assert backend.set_counts([("u%d" % i, "m%d" % j, i * j) for i in range(30) for j in range(3)],
                                  chunk_size=45) == 90
    touched = dbs_with_keys(server, dbs)
    assert counts.commands == {"set": 90}
    assert len(touched) == len(dbs)
    # Two chunks, each one pipeline per host it touches (each chunk touches every host here).
    assert counts.round_trips == 2 * len(touched)


def test_on_a_cluster(cluster, flavour):
    backend = make_backend(flavour, {"cluster": cluster.url(0)})
    try:
        assert backend.set_counts([("u%d" % i, "m", i) for i in range(200)], chunk_size=64) == 200
        assert backend.get_counts([("u%d" % i, "m") for i in range(200)]) == list(range(200))
    finally:
        backend.store.close()
