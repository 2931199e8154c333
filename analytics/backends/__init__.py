"""Analytics backends: :mod:`~analytics.backends.redis` stores data, :mod:`~analytics.backends.dummy` does nothing."""
