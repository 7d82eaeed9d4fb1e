"""Demo users and demo calls for the embedded run. Refuses unless DEMO_MODE is on."""

import secrets
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import Role
from analysis.dispatch import wait_for_inprocess
from calls.models import Case
from calls.services import case_create

DEMO_AUDIO = Path(__file__).resolve().parents[2] / "demo_audio"
DEMO_CALLS = [
    ("medical_not_breathing.ogg", "+91 98450 12345", "en-IN", "12 MG Road, Bengaluru", 40),
    ("fire_trapped.ogg", "+91 99100 54321", "en-IN", "Sector 15, Noida", 95),
    ("prank_aliens.ogg", "+91 90000 11111", "en", "", 150),
    ("womens_safety_knife.ogg", "+91 98300 22222", "en-IN", "Park Street, Kolkata", 20),
    ("road_accident.ogg", "+44 20 7946 0958", "en", "Pune toll plaza", 70),
]


class Command(BaseCommand):
    help = "Create demo users (passwords printed once) and a few demo calls with spoken audio."

    def handle(self, *args, **options):
        if not settings.DEMO_MODE:
            raise CommandError("demo_setup only runs with DEMO_MODE=1 (it prints passwords).")
        users = self._users()
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

    def _users(self) -> dict:
        User = get_user_model()
        users, created = {}, []
        for role in Role:
            username = f"demo-{role.value}"
            user = User.objects.filter(username=username).first()
            if user is None:
                password = secrets.token_urlsafe(9)
                user = User.objects.create_user(username=username, password=password, role=role)
                created.append((username, password, role.label))
            users[role] = user
        if created:
            self.stdout.write(self.style.WARNING("Demo users (passwords shown once, write them down):"))
            for username, password, label in created:
                self.stdout.write(f"  {label:<11} {username:<16} {password}")
        else:
            self.stdout.write("Demo users exist already; their passwords were printed when they were made.")
        return users
