"""The HTTP service: API v1 of the counters as an ASGI app (``pip install 'analytics[server]'``).

``analytics serve`` runs it with uvicorn; :func:`create_app` builds it over a
backend of your own, to mount inside another ASGI application::

    from analytics.service import create_app
    from analytics.service.auth import Tokens, parse_entry

    app = create_app(backend, tokens=Tokens([parse_entry("read:s3cret", "my token")]))
"""
from analytics.service.app import create_app

__all__ = ["create_app"]
