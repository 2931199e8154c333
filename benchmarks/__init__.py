"""Benchmarks of ``analytics`` against hand-written redis-py code; run ``python3 -m benchmarks.run --help``."""
