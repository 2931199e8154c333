"""Small helpers that have no better home."""
from importlib import import_module
from typing import Any


def import_string(import_name: str) -> Any:
    """Import and return the object named by a dotted path (``"pkg.module.Name"``).

    A plain module path (``"pkg.module"``) returns the module.  Raises
    :class:`ImportError` with the path in the message when it cannot be found.
    """
    if not isinstance(import_name, str):
        raise TypeError("import_string needs a dotted path string, got %r" % (import_name,))
    import_name = import_name.strip()
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
