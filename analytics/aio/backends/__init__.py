"""Asyncio backends: :mod:`~analytics.aio.backends.redis` and :mod:`~analytics.aio.backends.dummy`."""
