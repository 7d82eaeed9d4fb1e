"""Demo users, a demo phone system (an integration client with an API key) and demo calls for the
embedded run. Refuses unless DEMO_MODE is on."""

import secrets
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.api_keys import api_key_issue, integration_client_create
from accounts.management.base import PortalCommand
from accounts.models import IntegrationClient, Role
from analysis.dispatch import wait_for_inprocess
from calls.models import Case
from calls.services import case_create

DEMO_AUDIO = Path(__file__).resolve().parents[2] / "demo_audio"
PEOPLE = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)  # who signs in; a phone system has an API key instead
PHONE_SYSTEM = "demo-intake"
DEMO_CALLS = [
    ("medical_not_breathing.ogg", "+91 98450 12345", "en-IN", "12 MG Road, Bengaluru", 40),
    ("fire_trapped.ogg", "+91 99100 54321", "en-IN", "Sector 15, Noida", 95),
    ("prank_aliens.ogg", "+91 90000 11111", "en", "", 150),
    ("womens_safety_knife.ogg", "+91 98300 22222", "en-IN", "Park Street, Kolkata", 20),
    ("road_accident.ogg", "+44 20 7946 0958", "en", "Pune toll plaza", 70),
]


class Command(PortalCommand):
    help = ("Create demo users (passwords printed once), a demo phone system's API key (printed once) and a "
            "few demo calls with spoken audio.")

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="where the portal is served (for the "
                            "addresses printed)")

    def handle(self, *args, **options):
        if not settings.DEMO_MODE:
            raise CommandError("demo_setup only runs with DEMO_MODE=1 (it prints passwords).")
        users = self._users(options["url"])
        self._phone_system(users[Role.ADMIN], options["url"])
        if Case.objects.exists():
            self.stdout.write("Cases exist already; no demo calls added.")
            return
        operator = users[Role.OPERATOR]
        for name, number, language, location, seconds_ago in DEMO_CALLS:
            upload = SimpleUploadedFile(name, (DEMO_AUDIO / name).read_bytes(), content_type="audio/ogg")
            result = case_create(
                created_by=operator,
                caller_number=number,
                received_at=timezone.now() - timedelta(seconds=seconds_ago),
                language=language,
                location=location,
                audio=upload,
            )
            self.stdout.write(f"Demo call: case #{result.case.pk} ({name})")
        self.stdout.write("Analysing the demo calls…")
        wait_for_inprocess(timeout=300)

    def _users(self, url: str) -> dict:
        User = get_user_model()
        users, created = {}, []
        for role in PEOPLE:
            username = f"demo-{role.value}"
            user = User.objects.filter(username=username).first()
            if user is None:
                password = secrets.token_urlsafe(9)
                user = User.objects.create_user(username=username, password=password, role=role)
                created.append((username, password, role.label))
            users[role] = user
        if created:
            self.stdout.write(self.style.WARNING(f"Demo users, who sign in at {url}/accounts/login/ (passwords shown "
                                                 "once, write them down):"))
            for username, password, label in created:
                self.stdout.write(f"  {label:<11} {username:<16} {password}")
        else:
            self.stdout.write("Demo users exist already; their passwords were printed when they were made.")
        return users

    def _phone_system(self, admin, url: str) -> None:
        """The API account a call centre's phone system uses: it pushes calls in and follows them, with
        an API key (it has no password and never signs in to the pages)."""
        if IntegrationClient.objects.filter(name=PHONE_SYSTEM).exists():
            self.stdout.write(f"The demo phone system ({PHONE_SYSTEM}) exists already; its API key was printed when "
                              f"it was made (another: manage.py api_key_create {PHONE_SYSTEM} --user {admin.get_username()}).")
            return
        client = integration_client_create(admin=admin, name=PHONE_SYSTEM)
        _, key = api_key_issue(admin=admin, client=client, name="demo")
        self.stdout.write(self.style.WARNING(
            f"Demo phone system {PHONE_SYSTEM}: the REST API account a call centre's phone system uses to push calls "
            "in and follow them (it never signs in to the pages). Its API key, shown once:"))
        self.stdout.write(f"  {key}")
        self.stdout.write(
            f'  Try it: curl -H "Authorization: Api-Key {key}" -F caller_number=+919876543210 -F audio=@call.wav '
            f"{url}/api/v1/cases/\n"
            f"  More keys: manage.py api_key_create {PHONE_SYSTEM} --user {admin.get_username()}\n"
            f"The API and how to call it: {url}/api/v1/docs/ . A person's own API token (for scripts acting as "
            f"them): sign in, then {url}/accounts/token/")
