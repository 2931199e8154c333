"""An earlier revision of the library, imported next to today's, so that both run in one benchmark.

``python3 -m benchmarks.run --then 28c09f7`` times each sync scenario with
today's backend, with the backend of that git revision and with plain redis-py,
round after round; the table's "vs then" column is today's rate over the
revision's.  The revision's ``analytics/`` tree is taken with ``git archive``
into a temporary folder and imported as the package ``analytics_then`` (its
own ``analytics`` imports renamed), so that both live in one process.
"""
import atexit
import importlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from typing import Any, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAME = "analytics_then"
_OWN_IMPORTS = re.compile(r"^(\s*)(from|import) analytics\b", re.MULTILINE)


def backend_class(revision: str) -> Tuple[Any, str]:
    """The sync Redis backend class of ``revision`` and the revision's short name."""
    short = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", revision], check=True,
                           capture_output=True, text=True).stdout.strip()
    archive = subprocess.run(["git", "-C", ROOT, "archive", revision, "analytics"], check=True,
                             capture_output=True).stdout
    folder = tempfile.mkdtemp(prefix="analytics-then-")
    atexit.register(shutil.rmtree, folder, True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    package = os.path.join(folder, NAME)
    os.rename(os.path.join(folder, "analytics"), package)
    for directory, _, files in os.walk(package):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                with open(path, encoding="utf-8") as handle:
                    text = handle.read()
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(_OWN_IMPORTS.sub(r"\1\2 %s" % NAME, text))
    sys.path.insert(0, folder)
    return importlib.import_module(NAME + ".backends.redis").Redis, short
