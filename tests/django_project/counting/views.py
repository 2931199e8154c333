"""Views that count with the project's analytics backend, as an application would."""
import datetime

from django.http import HttpRequest, JsonResponse

from analytics.contrib.django import aanalytics, analytics


def like(request: HttpRequest, post: str) -> JsonResponse:
    day = datetime.date.fromisoformat(request.GET["day"]) if "day" in request.GET else None
    analytics.track_metric("post:%s" % post, "likes", day)
    return JsonResponse({"ok": True})


def likes(request: HttpRequest, post: str) -> JsonResponse:
    return JsonResponse({"likes": analytics.get_count("post:%s" % post, "likes")})


async def alike(request: HttpRequest, post: str) -> JsonResponse:
    await aanalytics.track_metric("post:%s" % post, "likes", datetime.date.fromisoformat(request.GET["day"]))
    return JsonResponse({"likes": await aanalytics.get_count("post:%s" % post, "likes")})
