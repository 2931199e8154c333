"""Plans without a server: commands out, replies in, result out.

Each plan is driven by hand here: the test reads the batch it yields, answers
with replies written out below, and checks what the call returns.  Nothing
is connected, so these show the plans do no I/O of their own.
"""
import datetime

import pytest

from analytics import plans
from analytics.plans.steps import Batch, Keyspace, Pause, Scan, ScanPage, Take

KS = Keyspace("_analytics")
D = datetime.date


def drive(plan, answers):
    """Run ``plan``, answering its steps from ``answers`` in turn; return (steps, result)."""
    steps = []
    answers = iter(answers)
    try:
        step = next(plan)
        while True:
            steps.append(step)
            step = plan.send(next(answers))
    except StopIteration as done:
        return steps, done.value


def test_track_metric_is_one_batch_of_four_commands_per_pair():
    steps, result = drive(plans.track_metric(KS, "u", ["a", "b"], D(2012, 12, 31), 2),
                          [[1, 2, 3, 4, 5, 6, 7, 8]])
    assert len(steps) == 1 and isinstance(steps[0], Batch) and steps[0].atomic
    assert steps[0].commands == [
        ("HINCRBY", "_analytics:user:u:analy:12-12", "a:12-12-31", 2),
        ("HINCRBY", "_analytics:user:u:analy:12", "a:12-12-31", 2),
        ("HINCRBY", "_analytics:user:u:analy:12", "a:12-12", 2),
        ("INCRBY", "_analytics:analy:u:count:a", 2),
        ("HINCRBY", "_analytics:user:u:analy:12-12", "b:12-12-31", 2),
        ("HINCRBY", "_analytics:user:u:analy:12", "b:12-12-31", 2),
        ("HINCRBY", "_analytics:user:u:analy:12", "b:12-12", 2),
        ("INCRBY", "_analytics:analy:u:count:b", 2),
    ]
    assert result == [[1, 2, 3, 4], [5, 6, 7, 8]]


def test_bad_arguments_raise_before_the_first_step():
    with pytest.raises(TypeError, match="inc_amt"):
        next(plans.track_metric(KS, "u", "m", D(2012, 1, 1), "2"))
    with pytest.raises(ValueError, match="limit"):
        next(plans.get_metric_by_day(KS, "u", "m", D(2012, 1, 1), -1))
    with pytest.raises(TypeError, match="unexpected keyword argument 'inc'"):
        plans.track_metric(KS, "u", "m", inc=5)


def test_get_metric_by_week_across_a_year_end_reads_both_year_hashes():
    batch = next(plans.get_metric_by_week(KS, "u", "m", D(2013, 1, 2), 2))
    # The week of Monday 2012-12-31 lives in the 2012 and the 2013 hashes; the next one in 2013.
    assert sorted(batch.commands) == [
        ("HMGET", "_analytics:user:u:analy:12", "m:12-12-31"),
        ("HMGET", "_analytics:user:u:analy:13", "m:12-12-31", "m:13-01-07"),
    ]
    assert not batch.atomic


def test_week_sums_add_both_year_parts():
    plan = plans.get_metric_by_week(KS, "u", "m", D(2013, 1, 2), 2)
    batch = next(plan)
    replies = []
    for command in batch.commands:
        key, fields = command[1], command[2:]
        values = {("_analytics:user:u:analy:12", "m:12-12-31"): "3",
                  ("_analytics:user:u:analy:13", "m:12-12-31"): "4",
                  ("_analytics:user:u:analy:13", "m:13-01-07"): None}
        replies.append([values[(key, field)] for field in fields])
    with pytest.raises(StopIteration) as done:
        plan.send(replies)
    assert done.value.value == ({"2012-12-31", "2013-01-07"}, {"2012-12-31": 7, "2013-01-07": 0})


@pytest.mark.parametrize("plan", [
    lambda: plans.sync_agg_metric(KS, "u", [], D(1, 1, 1), D(9999, 12, 26)),
    lambda: plans.sync_week_metric(KS, [], "m", D(1, 1, 1), D(9999, 12, 26)),
    lambda: plans.sync_month_metric(KS, [], "m", D(1, 1, 1), D(9999, 12, 31)),
    lambda: plans.get_counts(KS, [], D(1, 1, 1), D(9999, 12, 31)),
], ids=["sync, no metric", "sync weeks, no uid", "sync months, no uid", "get_counts, no pair"])
def test_no_pairs_over_any_range_is_done_without_a_step(plan):
    steps, result = drive(plan(), [])
    assert steps == []
    assert result in (None, [])


def test_no_pairs_still_have_their_dates_checked():
    with pytest.raises(ValueError, match="lies before"):
        next(plans.sync_agg_metric(KS, "u", [], D(2020, 1, 2), D(2020, 1, 1)))
    # 9999-12-31 is a Friday: its week ends past the calendar, pairs or not.
    for uids in ("u", []):
        with pytest.raises(ValueError, match="outside the calendar"):
            next(plans.sync_week_metric(KS, uids, [] if uids else "m", D(9999, 12, 1), D(9999, 12, 31)))
    with pytest.raises(ValueError, match="start_date"):
        next(plans.get_counts(KS, [], D(2020, 1, 2), None))


def test_get_counts_all_time_reads_each_counter():
    steps, result = drive(plans.get_counts(KS, [("u", "a"), (7, "b")]), [["5", None]])
    assert steps[0].commands == [("GET", "_analytics:analy:u:count:a"), ("GET", "_analytics:analy:7:count:b")]
    assert result == [5, 0]


def test_set_metric_by_day_swaps_the_day_then_writes_the_synced_buckets_and_the_counter():
    plan = plans.set_metric_by_day(KS, "u", "m", D(2012, 3, 7), 9)
    first = next(plan)
    assert first.commands[0][0] == "EVAL" and first.commands[0][3:] == ("_analytics:user:u:analy:12-03", "m:12-03-07", 9)
    # The swap returns the old value "4"; every read field of the week and month is empty but the day itself.
    replies = ["4"] + [[("9" if field == "m:12-03-07" else None) for field in command[2:]]
                       for command in first.commands[1:]]
    second = plan.send(replies)
    assert ("INCRBY", "_analytics:analy:u:count:m", 5) in second.commands
    assert ("HSET", "_analytics:user:u:analy:12", "m:12-03-05", 9) in second.commands  # the week of Monday 03-05
    assert ("HSET", "_analytics:user:u:analy:12", "m:12-03", 9) in second.commands
    with pytest.raises(StopIteration) as done:
        plan.send([0, 0, 5])
    assert done.value.value == [[0]]


def test_track_metrics_reads_its_input_in_pieces_and_sends_one_batch_per_chunk():
    events = [("u%d" % (i % 2), "m", D(2012, 1, 1)) for i in range(5)]
    plan = plans.track_metrics(KS, events, chunk_size=3)
    take = next(plan)
    assert isinstance(take, Take) and take.size == 3
    batch = plan.send(events[:3])
    assert isinstance(batch, Batch) and not batch.replies
    assert ("INCRBY", "_analytics:analy:u0:count:m", 2) in batch.commands
    take = plan.send(None)
    assert take.size == 3
    take = plan.send(events[3:])
    assert take.size == 1  # the rest of the chunk: the input has run out
    batch = plan.send([])
    assert ("INCRBY", "_analytics:analy:u1:count:m", 1) in batch.commands
    with pytest.raises(StopIteration) as done:
        plan.send(None)
    assert done.value.value == 5


def test_a_large_chunk_is_read_and_planned_in_pieces_of_500():
    events = [("u%d" % i, "m", D(2012, 1, 1)) for i in range(1200)]
    steps, result = drive(plans.track_metrics(KS, events),
                          [events[:500], events[500:1000], events[1000:], [], None, None, None, None])
    kinds = [type(step).__name__ for step in steps]
    # Three pieces read (the last one short, then the empty read that ends the
    # input), a pause after each 500 events planned and after 2,000 of their
    # 2,400 week and month fields, then the chunk's one batch.
    assert kinds == ["Take", "Take", "Take", "Take", "Pause", "Pause", "Pause", "Batch"]
    assert [step.size for step in steps[:4]] == [500, 500, 500, 500]
    assert isinstance(steps[4], Pause)
    assert result == 1200


def test_clear_all_deletes_each_page_on_the_node_it_came_from():
    node_a, node_b = object(), object()
    steps, result = drive(plans.clear_all(KS), [
        ScanPage("1-0", node_a, ["_analytics:x", "_analytics:y"]), [1, 1],
        ScanPage("0", node_b, []),
    ])
    assert isinstance(steps[0], Scan) and steps[0].pattern == "_analytics:*" and steps[0].cursor == "0"
    assert steps[1].commands == [("UNLINK", "_analytics:x"), ("UNLINK", "_analytics:y")] and steps[1].node is node_a
    assert steps[2].cursor == "1-0"
    assert result is None


def test_scan_uids_parses_both_kinds_of_keys():
    steps, result = drive(plans.scan_uids(KS, "user:", "0", 50), [ScanPage("0", None, [
        "_analytics:analy:user:1:count:m", "_analytics:user:user:2:analy:12-03", "_analytics:user:user:2:analy:12",
        "_analytics:analy:other:count:m", "_analytics:unrelated",
    ])])
    assert steps[0].pattern == "_analytics:*:user:*" and steps[0].count == 50
    assert result == ("0", ["user:1", "user:2"])


def test_scan_day_counts_reads_the_page_hashes_on_their_node():
    node = object()
    steps, result = drive(plans.scan_day_counts(KS), [
        ScanPage("0", node, ["_analytics:user:u:analy:12-03"]),
        [["m:12-03-07", "4", "n:12-03-01", "2"]],
    ])
    assert steps[1].commands == [("HGETALL", "_analytics:user:u:analy:12-03")] and steps[1].node is node
    assert result == ("0", [("u", "m", D(2012, 3, 7), 4), ("u", "n", D(2012, 3, 1), 2)])
