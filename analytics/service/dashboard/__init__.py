"""The dashboard: static pages that draw the counters with the API's own answers.

The pages hold no data, so they are served without a token; every number they
show comes from a ``/v1/`` request that the browser makes with the bearer token
the person gives (kept in ``sessionStorage``).  The files are read once, when
the app is built, and served from memory: they are a few kilobytes, and
nothing here touches the disk or Redis per request.
"""
import hashlib
import os
from typing import Awaitable, Callable, Dict, List, Tuple

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

HERE = os.path.dirname(os.path.abspath(__file__))

#: The files served, by URL path, with their media types.
FILES: Dict[str, Tuple[str, str]] = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/static/chart.js": ("chart.js", "text/javascript; charset=utf-8"),
    "/static/style.css": ("style.css", "text/css; charset=utf-8"),
}

#: The browser may load and call this origin only: a page that tried to fetch a
#: font, a script or a beacon from elsewhere would be stopped (and say so in its console).
POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
          "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def routes() -> List[Route]:
    """One GET route per file, answering from memory (ETag and 304 for the browser's cache)."""
    found = []
    for path, (name, kind) in FILES.items():
        with open(os.path.join(HERE, name), "rb") as handle:
            body = handle.read()
        found.append(Route(path, endpoint(body, kind), methods=["GET"]))
    return found


def endpoint(body: bytes, kind: str) -> Callable[[Request], Awaitable[Response]]:
    tag = '"%s"' % hashlib.sha256(body).hexdigest()[:32]
    # no-cache: the browser keeps the file but asks each time, so a new version shows at once.
    headers = {"ETag": tag, "Cache-Control": "no-cache", "Content-Security-Policy": POLICY,
               "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}

    async def serve(request: Request) -> Response:
        if tag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type=kind, headers=headers)

    return serve
