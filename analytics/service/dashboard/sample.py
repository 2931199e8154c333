"""Sample counters for ``analytics serve --demo``: a few months of a handful of uids.

The numbers are made up but shaped like real ones (busier on weekdays, growing
slowly, some metrics rarer than others) and the same on every run, so that a
screenshot or a bug report made with the demo can be reproduced.
"""
import datetime
import random
from typing import Iterator, Optional, Tuple

UIDS = ("user:1001", "user:1002", "user:1003", "user:1004", "post:77")
#: metric -> its typical daily count
METRICS = {"comments": 12, "likes": 40, "logins": 3, "shares": 1}
DAYS = 150


def events(today: Optional[datetime.date] = None) -> Iterator[Tuple[str, str, datetime.date, int]]:
    """``(uid, metric, day, count)`` for the :data:`DAYS` days up to ``today``, as ``track_metrics`` takes them."""
    end = today or datetime.date.today()
    rng = random.Random(9)
    for rank, uid in enumerate(UIDS):
        for metric, typical in METRICS.items():
            scale = typical * (1 + rank) / 2
            for back in range(DAYS):
                day = end - datetime.timedelta(days=back)
                busy = 1.0 if day.weekday() < 5 else 0.45
                growth = 1 + (DAYS - back) / DAYS
                count = int(scale * busy * growth * rng.uniform(0.3, 1.4))
                if count:
                    yield uid, metric, day, count
