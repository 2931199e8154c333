"""Run a benchmark as if hiredis were not installed (redis-py's own packer and parser on both sides).

    python3 -m benchmarks.nohiredis run --quick --no-ceiling      # benchmarks.run without hiredis
    python3 -m benchmarks.nohiredis options --quick

redis-py decides at import time whether hiredis is there; importing it is made
to fail before redis-py is imported, so the library and the hand-written
redis-py code both run without it, in the same rounds as ever.
"""
import runpy
import sys


def main() -> None:
    if len(sys.argv) < 2:
        raise SystemExit("usage: python3 -m benchmarks.nohiredis BENCHMARK [its options...]  (e.g. run --quick)")
    if "redis" in sys.modules:
        raise SystemExit("redis-py was imported before hiredis could be hidden from it")
    sys.modules["hiredis"] = None  # type: ignore[assignment]  # "import hiredis" now raises ImportError
    name = sys.argv[1]
    sys.argv = ["benchmarks.%s" % name] + sys.argv[2:]
    runpy.run_module("benchmarks.%s" % name, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
