"""Integration clients and their API keys: made and revoked by admins, checked on every API request.

Keys come from djangorestframework-api-key: stored hashed, a short prefix kept in clear to tell them
apart, an optional expiry, revocation for good. A client is sent as ``Authorization: Api-Key <key>``
and acts as its own user of role "intake", so the same role checks as the pages apply to it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, cast

from django.db import transaction
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from .models import ClientAPIKey, IntegrationClient, Role, User

security_log = logging.getLogger("security")
KEYWORD = "Api-Key"


class NotAllowedHere(PermissionError):
    pass


def integration_client_create(*, admin: Any, name: str) -> IntegrationClient:
    """A client and its intake user (no password: it never logs in to the pages)."""
    if not admin.has_role(Role.ADMIN):
        raise NotAllowedHere("Only an admin can add integration clients.")
    name = name.strip()
    if not name:
        raise ValueError("Give the client a name.")
    with transaction.atomic():
        user = User(username=f"client-{name}"[:150], role=Role.INTAKE, first_name=name[:150])
        user.set_unusable_password()
        user.save()
        return IntegrationClient.objects.create(name=name, user=user, created_by=admin)


def api_key_issue(*, admin: Any, client: IntegrationClient, name: str,
                  expires_at: datetime | None = None) -> tuple[ClientAPIKey, str]:
    """A new key for the client: (the stored key, the key itself, shown this once)."""
    if not admin.has_role(Role.ADMIN):
        raise NotAllowedHere("Only an admin can issue API keys.")
    made, secret = ClientAPIKey.objects.create_key(client=client, name=name[:50] or client.name[:50],
                                                   expiry_date=expires_at)
    key = cast(ClientAPIKey, made)
    security_log.info("api key %s issued to client %r by %s", key.prefix, client.name, admin)
    return key, secret


def api_key_revoke(*, admin: Any, key: ClientAPIKey) -> ClientAPIKey:
    if not admin.has_role(Role.ADMIN):
        raise NotAllowedHere("Only an admin can revoke API keys.")
    ClientAPIKey.objects.filter(pk=key.pk).update(revoked=True)
    security_log.info("api key %s of client %r revoked by %s", key.prefix, key.client.name, admin)
    key.refresh_from_db()
    return key


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Api-Key <key>``: the client's intake user, or 401 for an unknown, revoked or
    expired key (logged, with the prefix only)."""

    def authenticate(self, request: Any) -> tuple[User, ClientAPIKey] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].decode("latin-1") != KEYWORD:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Send the key as 'Authorization: Api-Key <key>'.")
        secret = parts[1].decode("latin-1")
        try:
            key = cast(ClientAPIKey, ClientAPIKey.objects.get_from_key(secret))
        except ClientAPIKey.DoesNotExist:
            key = None
        if key is None or key.has_expired or not key.client.user.is_active:
            security_log.warning("api key refused: prefix %r from %s (unknown, revoked or expired)",
                                 secret.partition(".")[0][:8], request.META.get("REMOTE_ADDR"))
            raise exceptions.AuthenticationFailed("The API key is unknown, revoked or expired.")
        return key.client.user, key

    def authenticate_header(self, request: Any) -> str:
        return KEYWORD


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """How the schema describes the key: ``Authorization: Api-Key <key>``."""

    target_class = "accounts.api_keys.ApiKeyAuthentication"
    name = "IntakeApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "Integration clients: `Api-Key <key>` (keys are made by admins)."}
