"""The library's own exceptions.

Every one of them subclasses a built-in or redis-py exception that callers of
py-analytics 0.6.x already catch, so existing ``except`` clauses keep working.
"""
from typing import Optional

import redis.exceptions


class ConfigurationError(ValueError):
    """The settings cannot describe a working backend (raised when it is built)."""


class MissingSettingError(ConfigurationError, KeyError):
    """A required setting is absent.

    Also a :class:`KeyError`, which is what 0.6.x raised for it, so code that
    caught that keeps working.
    """

    def __str__(self) -> str:
        # KeyError's own str() shows the repr of its argument, quotes and escapes included.
        return ValueError.__str__(self)


class HostUnavailableError(redis.exceptions.ConnectionError):
    """A Redis host could not be reached or stopped answering.

    ``host`` names it (``"redis://host:port/db"`` or the configured identifier).
    ``applied`` tells what may have happened to the batch sent to *that* host:
    ``False`` when nothing was sent to it, ``None`` when it is unknown (it may
    even be applied after this error, by a host that was only slow).  The
    batches of the same call that went to other hosts were applied.  When
    several hosts fail in one call, the error names the first.
    """

    def __init__(self, host: str, cause: BaseException, applied: Optional[bool] = None):
        self.host = host
        self.cause = cause
        self.applied = applied
        state = "nothing was sent" if applied is False else "the batch may or may not have been applied"
        super().__init__("Redis host %s is unavailable (%s: %s); %s" % (host, type(cause).__name__, cause, state))

    def __reduce__(self):
        # Pickled with the constructor's arguments, not the message, so the
        # error survives multiprocessing, task queues and copy.copy().
        return type(self), (self.host, self.cause, self.applied)


class HostTimeoutError(HostUnavailableError, redis.exceptions.TimeoutError):
    """A Redis host did not answer within the configured timeout."""


class ClosedError(RuntimeError):
    """A backend was used after ``close()`` (or after its ``with`` block ended)."""


class ServiceError(RuntimeError):
    """The analytics HTTP service refused a request for a reason other than the call's input.

    For example a token that is missing, unknown or lacks the scope (``status``
    401 or 403), or an address that is not the service.  Bad input raises the
    library's own ``TypeError``/``ValueError``, a lost Redis host
    :class:`HostUnavailableError`, as they would in-process.
    """

    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__("HTTP %d: %s" % (status, message))

    def __reduce__(self):
        return type(self), (self.status, str(self).split(": ", 1)[1])
