"""A person's own API token (DRF's ``Authorization: Token <key>``), for scripts that use the API as them.

Made, replaced and revoked only by its owner, on the token page (accounts.views.api_token) behind
the ordinary login and its guards: nobody mints a token for someone else (the Django admin offers no
token page either), so a token never acts as anyone but the person who asked for it. Integration
clients (a phone system) use API keys instead (accounts.api_keys).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from rest_framework.authtoken.models import Token

from .models import Role

security_log = logging.getLogger("security")


class TokenRefused(PermissionError):
    pass


def api_token_renew(*, user: Any) -> str:
    """A new token for the user, replacing (and so revoking) any earlier one: the key, to show once."""
    if not user.has_role(Role.OPERATOR):
        raise TokenRefused("Only the portal's operators, supervisors and admins have API tokens.")
    with transaction.atomic():
        replaced = Token.objects.filter(user=user).delete()[0] > 0
        token = Token.objects.create(user=user)
    security_log.info("api token %s: user=%s", "replaced" if replaced else "created", user.get_username())
    return str(token.key)


def api_token_revoke(*, user: Any) -> bool:
    """Revoke the user's token; False when there was none."""
    revoked = Token.objects.filter(user=user).delete()[0] > 0
    if revoked:
        security_log.info("api token revoked: user=%s", user.get_username())
    return revoked
