"""Small helpers that have no better home."""
from importlib import import_module
from typing import Any


def import_string(import_name: str, silent: bool = False) -> Any:
    """Import and return the object named by a dotted path (``"pkg.module.Name"``).

    A plain module path (``"pkg.module"``) returns the module.  A path that
    cannot be imported raises :class:`ImportError` with the path in the
    message, or, with ``silent=True`` (as in 0.6.x), returns ``None``.  A path
    that is not a string raises :class:`TypeError` either way: that is a bug in
    the caller, not a missing module.
    """
    if not isinstance(import_name, str):
        raise TypeError("import_string needs a dotted path string, got %r" % (import_name,))
    try:
        return _import(import_name.strip())
    except ImportError:
        if silent:
            return None
        raise


def _import(import_name: str) -> Any:
    # importlib refuses these with ValueError/TypeError; they are still paths that cannot be imported.
    if not import_name or import_name.startswith(".") or ".." in import_name:
        raise ImportError("cannot import %r: not an absolute dotted path" % (import_name,))
    try:
        return import_module(import_name)
    except ImportError:
        if "." not in import_name:
            raise
    module_name, _, attr = import_name.rpartition(".")
    module = import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ImportError("module %r has no attribute %r" % (module_name, attr)) from None
