"""``manage.py api_key_create CLIENT --user ADMIN [--days N] [--name NAME] [--json]``: a new API key for an
integration client (the client is added first if it is new). The key is printed once; only its hash is kept."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from accounts.api_keys import NotAllowedHere, api_key_issue, integration_client_create
from accounts.management.base import PortalCommand
from accounts.models import IntegrationClient, User


class Command(PortalCommand):
    help = "Issue an API key to an integration client (a phone system pushing calls in)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client")
        parser.add_argument("--user", required=True, help="the admin who issues it")
        parser.add_argument("--days", type=int, help="expires after this many days (default: never)")
        parser.add_argument("--name", default="", help="what the key is for (default: the client's name)")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        admin = User.objects.filter(username=opts["user"]).first()
        if admin is None:
            raise CommandError(f"No user {opts['user']!r}.")
        if opts["days"] is not None and opts["days"] < 1:
            raise CommandError("--days must be at least 1.")
        try:
            client = IntegrationClient.objects.filter(name=opts["client"]).first() or integration_client_create(
                admin=admin, name=opts["client"])
            expires = timezone.now() + timedelta(days=opts["days"]) if opts["days"] else None
            key, secret = api_key_issue(admin=admin, client=client, name=opts["name"], expires_at=expires)
        except (NotAllowedHere, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        result = {"client": client.name, "prefix": key.prefix, "key": secret,
                  "expires": key.expiry_date.isoformat() if key.expiry_date else None}
        if opts["json"]:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(f"Key for {client.name} (shown once; send as 'Authorization: Api-Key <key>'):\n{secret}")
