"""When each kind of bucket expires: ``EXPIREAT`` commands that go in the same batch as the write.

A key's expiry is computed from the bucket it holds, never from the time of
the write: the end of the bucket (in the backend's time zone, in UTC without
one) plus the retention of its kind.  It is set with ``EXPIREAT ... NX``
(Redis 7.0+): only a key without an expiry gets one, so writing to an old
bucket again never extends it, and a bucket already past its expiry is
removed by the very batch that creates it again.  ``NX`` also keeps a 0.6.x
key whose two-digit name another century shares (``..:analy:12`` holds 1912
and 2012) at the expiry its first write gave it.  0.6.x's hashes are shared
by several buckets; each is kept as long as the last bucket it holds:

* a month hash (``..:analy:yy-mm``) holds that month's days: the end of the
  month plus the ``day`` retention;
* a year hash (``..:analy:yy``) holds its weeks and months: the end of the year
  plus the longer of the ``week`` and ``month`` retentions (forever if either is);
* an hour hash holds one local day's hours: the end of that day plus ``hour``;
* a HyperLogLog holds one bucket: its end plus ``unique`` (``hour`` for an hour's).
"""
import datetime
from typing import Any, Optional, Tuple

from analytics import buckets
from analytics.plans.steps import Keyspace

Command = Tuple[Any, ...]


def expire_at(key: str, when: int) -> Command:
    """Expire ``key`` at ``when`` (seconds since the epoch) unless it already has an expiry."""
    return ("EXPIREAT", key, when, "NX")


def month_hash(ks: Keyspace, key: str, day: datetime.date) -> Optional[Command]:
    keep = ks.retention["day"]
    return None if keep is None else expire_at(key, buckets.month_end(day.replace(day=1), ks.zone) + keep)


def year_hash(ks: Keyspace, key: str, year: int) -> Optional[Command]:
    keep = ks.year_retention
    return None if keep is None else expire_at(key, buckets.year_end(year, ks.zone) + keep)


def hour_hash(ks: Keyspace, key: str, day: datetime.date) -> Optional[Command]:
    keep = ks.retention["hour"]
    return None if keep is None else expire_at(key, buckets.midnight_after(day, ks.zone) + keep)
