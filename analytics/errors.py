"""The library's own exceptions.

Every one of them subclasses a built-in or redis-py exception that callers of
py-analytics 0.6.x already catch, so existing ``except`` clauses keep working.
"""
import redis.exceptions


class ConfigurationError(ValueError):
    """The settings cannot describe a working backend (raised when it is built)."""


class HostUnavailableError(redis.exceptions.ConnectionError):
    """A Redis host could not be reached or stopped answering.

    ``host`` names it (``"redis://host:port/db"`` or the configured identifier).
    ``applied`` tells what may have happened to the batch sent to it:
    ``False`` when nothing was sent (safe to retry), ``None`` when it is unknown.
    """

    def __init__(self, host: str, cause: BaseException, applied=None):
        self.host = host
        self.cause = cause
        self.applied = applied
        state = "nothing was sent" if applied is False else "the batch may or may not have been applied"
        super().__init__("Redis host %s is unavailable (%s: %s); %s" % (host, type(cause).__name__, cause, state))


class HostTimeoutError(HostUnavailableError, redis.exceptions.TimeoutError):
    """A Redis host did not answer within the configured timeout."""
