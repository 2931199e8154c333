"""The README documents that ``:count:`` inside uids or metrics can share an all-time counter."""
import datetime

DAY = datetime.date(2012, 6, 15)


def test_count_in_a_uid_or_metric_shares_the_all_time_counter(backend):
    backend.track_metric("shop:count", "views", DAY, inc_amt=2)
    backend.track_metric("shop", "count:views", DAY, inc_amt=5)
    plain = backend.get_backend()
    # Both pairs name the same all-time key (0.6.5's layout, kept: POLICY K1/K2) ...
    assert plain.get("_analytics:analy:shop:count:count:views") == "7"
    assert backend.get_count("shop:count", "views") == 7
    assert backend.get_count("shop", "count:views") == 7
    # ... while their day, week and month counts live in different hashes and stay apart.
    assert backend.get_count("shop:count", "views", DAY, DAY) == 2
    assert backend.get_count("shop", "count:views", DAY, DAY) == 5
    assert plain.hget("_analytics:user:shop:count:analy:12-06", "views:12-06-15") == "2"
    assert plain.hget("_analytics:user:shop:analy:12-06", "count:views:12-06-15") == "5"
