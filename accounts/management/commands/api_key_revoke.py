"""``manage.py api_key_revoke PREFIX --user ADMIN``: revoke an integration client's key for good."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from accounts.api_keys import NotAllowedHere, api_key_revoke
from accounts.management.base import PortalCommand
from accounts.models import ClientAPIKey, User


class Command(PortalCommand):
    help = "Revoke an API key (by the prefix admins see); requests with it are refused from now on."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("prefix")
        parser.add_argument("--user", required=True, help="the admin who revokes it")

    def handle(self, *args: Any, **opts: Any) -> None:
        admin = User.objects.filter(username=opts["user"]).first()
        key = ClientAPIKey.objects.filter(prefix=opts["prefix"]).select_related("client").first()
        if admin is None or key is None:
            raise CommandError(f"No user {opts['user']!r}." if admin is None else f"No key with prefix {opts['prefix']!r}.")
        if key.revoked:
            raise CommandError(f"Key {key.prefix} of {key.client.name} is revoked already.")
        try:
            api_key_revoke(admin=admin, key=key)
        except NotAllowedHere as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Revoked key {key.prefix} of {key.client.name}.")
