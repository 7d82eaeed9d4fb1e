"""The operator's desk: "Take a live call", the headset's microphone streamed to /ws/live/desk/
(static/js/desk.js). The page only sets the call up; the socket checks the role again itself."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from calls.models import Language

from .auth import takes_desk_calls
from .routing import DESK_PATH
from .services import DESK_RATE


def desk(request: HttpRequest) -> HttpResponse:
    # Anonymous visitors never get here (LoginRequiredMiddleware sends them to the login page).
    if not takes_desk_calls(request.user):
        raise PermissionDenied("Only operators take live calls at their desk.")
    return render(request, "live/desk.html", {
        "languages": Language.choices, "default_language": Language.EN_IN, "socket_path": DESK_PATH,
        "sample_rate": DESK_RATE, "reconnect_seconds": settings.LIVE_RECONNECT_SECONDS,
        "max_seconds": settings.MAX_AUDIO_SECONDS,
    })
