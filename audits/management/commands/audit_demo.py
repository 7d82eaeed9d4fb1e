"""Earlier calls of the demo shift, closed and partly audited, so the audit pages have something to
show in the embedded run. Refuses unless DEMO_MODE is on; does nothing once audits exist."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.management.base import PortalCommand
from analysis.dispatch import wait_for_inprocess
from analysis.management.commands.demo_setup import DEMO_AUDIO
from audits.models import AuditItem
from audits.sampling import sampling_config
from audits.services import audit_item_create, audit_record
from calls import services as calls
from calls.models import Outcome

# file, hours ago, operator's outcome, then the supervisor's answer (category, genuine, incident) or None
EARLIER_CALLS = [
    ("medical_not_breathing.ogg", 5, Outcome.HEALTH, ("stressful", True, "medical")),
    ("prank_aliens.ogg", 4, Outcome.PRANK, ("prank", False, "other")),
    ("road_accident.ogg", 3, Outcome.HEALTH, ("painful", True, "road_accident")),
    ("fire_trapped.ogg", 2, Outcome.FIRE, None),
    ("womens_safety_knife.ogg", 1, Outcome.WOMENS_HELP, None),
]


class Command(PortalCommand):
    help = "Demo only: earlier calls of the shift, closed, picked for review, three of them audited."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_MODE:
            raise CommandError("audit_demo only runs with DEMO_MODE=1.")
        if AuditItem.objects.exists():
            self.stdout.write("Audits exist already; no demo audits added.")
            return
        User = get_user_model()
        operator = User.objects.filter(username="demo-operator").first()
        supervisor = User.objects.filter(username="demo-supervisor").first()
        if operator is None or supervisor is None:
            raise CommandError("Run demo_setup first (it makes the demo users).")
        cases = []
        for number, (name, hours_ago, _outcome, _answer) in enumerate(EARLIER_CALLS):
            upload = SimpleUploadedFile(name, (DEMO_AUDIO / name).read_bytes(), content_type="audio/ogg")
            created = calls.case_create(created_by=operator, caller_number=f"+91 98765 0000{number}",
                                        received_at=timezone.now() - timedelta(hours=hours_ago),
                                        language="en", location="", audio=upload)
            cases.append(created.case)
        wait_for_inprocess(timeout=300)
        # Every earlier demo call is picked (a real shift picks 2 % at random plus the targeted ones).
        config = replace(sampling_config(), random_share=1.0, second_review_share=0.0)
        for case, (_name, _hours, outcome, answer) in zip(cases, EARLIER_CALLS, strict=True):
            calls.case_claim(case=case, operator=operator)
            calls.case_close(case=case, user=operator, outcome=outcome, reason="demo: earlier in the shift")
            # Closing may have picked it already (suspected prank, demotion): that item stands.
            item = AuditItem.objects.filter(case=case).first() or audit_item_create(case=case, config=config)
            if item is not None and answer is not None:
                category, genuine, incident = answer
                audit_record(item=item, supervisor=supervisor, category=category, genuine=genuine,
                             incident_type=incident)
        self.stdout.write(f"Demo audits: {AuditItem.objects.count()} earlier calls picked for review, "
                          f"{sum(a is not None for *_, a in EARLIER_CALLS)} audited.")
