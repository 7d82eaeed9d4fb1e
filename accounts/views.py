"""The signed-in person's own pages (their API token), and the locked logins a supervisor releases."""

from __future__ import annotations

from typing import cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from rest_framework.authtoken.models import Token

from .api_tokens import api_token_renew, api_token_revoke
from .lockouts import LockoutReleaseRefused, lockouts_current, login_lockout_release
from .models import Role, User
from .permissions import role_required


@never_cache  # the page shows a new key once: no copy of it in any cache
@require_http_methods(["GET", "POST"])
@role_required(Role.OPERATOR)
def api_token(request: HttpRequest) -> HttpResponse:
    """GET: whether you have a token and since when; POST do=renew: a new one, shown this once
    (the old one stops working); POST do=revoke: none."""
    user = cast(User, request.user)  # signed in: role_required let no one else through
    new_key, message, status = "", "", 200
    if request.method == "POST":
        action = request.POST.get("do", "")
        if action == "renew":
            new_key = api_token_renew(user=user)
        elif action == "revoke":
            message = "Your token was revoked." if api_token_revoke(user=user) else "You had no token."
        else:
            message, status = "Choose to make a new token or to revoke yours.", 400
    token = Token.objects.filter(user=user).first()
    context = {"title": "API token", "token": token, "new_key": new_key, "message": message}
    return render(request, "accounts/api_token.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@role_required(Role.SUPERVISOR)
def lockouts(request: HttpRequest) -> HttpResponse:
    """GET: the logins locked now after repeated wrong passwords; POST attempt=<id>: release that one."""
    message, status = "", 200
    if request.method == "POST":
        try:
            released = login_lockout_release(attempt_id=int(request.POST.get("attempt", "")),
                                             by=cast(User, request.user))
        except ValueError:
            message, status = "Choose a locked login to release.", 400
        except LockoutReleaseRefused as refusal:
            message, status = str(refusal), 409
        else:
            message = f"{released.username} can sign in again from {released.ip_address}."
    context = {"title": "Locked logins", "lockouts": lockouts_current(), "message": message,
               "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)}
    return render(request, "accounts/lockouts.html", context, status=status)
