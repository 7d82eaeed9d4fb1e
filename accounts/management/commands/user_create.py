"""``manage.py user_create USERNAME --role ROLE [--email E]``: a person's account, from the shell.

This is how an installation gets its first admin (who then adds everyone else on the admin pages):
Django's ``createsuperuser`` makes a Django superuser, which is not a portal role. The password is
read from the environment variable ``PORTAL_PASSWORD`` when set (scripts, the production test),
else asked twice on the terminal; Django's password rules apply either way.
"""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser

from accounts.management.base import PortalCommand
from accounts.models import Role, User

PERSON_ROLES = [Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN]


class Command(PortalCommand):
    help = "Add a person's account (operator, supervisor or admin): the first admin of an installation."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[str(r) for r in PERSON_ROLES])
        parser.add_argument("--email", default="")

    def _password(self, user: User) -> str:
        password = os.environ.get("PORTAL_PASSWORD")
        if password is None:
            password = getpass.getpass("Password: ")
            if getpass.getpass("Password (again): ") != password:
                raise CommandError("The two passwords differ; nothing was created.")
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError("Password refused: " + " ".join(exc.messages)) from exc
        return password

    def handle(self, *args: Any, **opts: Any) -> None:
        username = opts["username"].strip()
        if not username:
            raise CommandError("Give a username.")
        if User.objects.filter(username__iexact=username).exists():
            raise CommandError(f"There is already a user {username!r}; nothing was changed.")
        user = User(username=username, email=opts["email"], role=opts["role"])
        try:
            user.full_clean(exclude=["password"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        user.set_password(self._password(user))
        user.save()
        self.stdout.write(f"Created {user.get_role_display().lower()} {username!r}.")
