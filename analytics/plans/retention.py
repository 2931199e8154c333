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
import time
from typing import Any, Dict, List, Optional, Tuple

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


class Sent:
    """The expiries one bulk call has sent, so that its later chunks need not send them again.

    ``EXPIREAT ... NX`` changes nothing on a key that has an expiry, so once a
    chunk has given a key its expiry, every later chunk of the same call may
    leave it out while the key lives.  A key whose expiry is near (or past:
    that very ``EXPIREAT`` deleted it) may be gone and written anew by the next
    chunk, so it is sent every time.  The memory is bounded: past
    :data:`LIMIT` keys it starts afresh, which only costs a few commands again.
    A key deleted by someone else during the call (``clear_all`` of the same
    prefix) and written again by a later chunk is left without an expiry.
    """

    #: Keys remembered at most.
    LIMIT = 100000
    #: Seconds: an expiry closer than this to now is always sent.
    MARGIN = 3600

    __slots__ = ("_until",)

    def __init__(self) -> None:
        self._until: Dict[str, int] = {}

    def unsent(self, expiries: List[Command]) -> List[Command]:
        """Those of ``expiries`` this call still has to send; remembers them as sent."""
        until = self._until
        if len(until) > self.LIMIT:
            until.clear()
        soon = time.time() + self.MARGIN
        unsent = []
        for command in expiries:
            key, when = command[1], command[2]
            if when > soon:
                if key in until:
                    continue
                until[key] = when
            unsent.append(command)
        return unsent
