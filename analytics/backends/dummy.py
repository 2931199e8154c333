"""A backend that accepts every call and stores nothing (for tests and for switching analytics off)."""
from typing import Any, Optional

from analytics.backends.base import CLASS_PREFIX, BaseAnalyticsBackend, Retention, doors, inert_door


@doors(inert_door)
class Dummy(BaseAnalyticsBackend):
    """Every method takes the same arguments as the Redis backend's (a misspelt keyword raises) and returns ``None``."""

    def __init__(self, settings: Any = None, *, prefix: str = CLASS_PREFIX, hours: bool = False,
                 years: bool = False, timezone: Optional[str] = None, retention: Optional[Retention] = None):
        super().__init__(settings, prefix=prefix, hours=hours, years=years, timezone=timezone,
                         retention=retention)

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> "Dummy":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
