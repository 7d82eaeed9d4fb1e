"""The demo calls through the real pipeline (real audio, Whisper, the text analysis, the triage):
what the words may decide — a stopped breath or a knife ranks high, a prank is marked and lowered."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from analysis import dispatch
from calls.models import Case

pytestmark = pytest.mark.django_db(transaction=True)

DEMO = Path(__file__).resolve().parents[1] / "analysis" / "demo_audio"
EXPECTED = {  # file: (incident, a reason that must be shown, bands allowed, suspected prank)
    "medical_not_breathing.ogg": ("medical", "'not breathing' at", {"critical"}, False),
    "fire_trapped.ogg": ("fire", "'trapped' at", {"critical", "high"}, False),
    "womens_safety_knife.ogg": ("women_safety", "'knife' at", {"critical", "high"}, False),
    "road_accident.ogg": ("road_accident", "at", {"critical", "high"}, False),
    "prank_aliens.ogg": ("crime", "(possible prank)", {"low", "normal"}, True),
}


@pytest.fixture(autouse=True)
def inprocess(settings):
    settings.ANALYSIS_BACKEND = "inprocess"


def test_the_demo_calls_rank_by_what_their_callers_say(case_factory):
    cases = {}
    for name in EXPECTED:
        upload = SimpleUploadedFile(name, (DEMO / name).read_bytes(), content_type="audio/ogg")
        cases[name] = case_factory(audio=upload, language="en-IN", location="")
    dispatch.wait_for_inprocess(timeout=300)
    for name, (incident, reason, bands, prank) in EXPECTED.items():
        case = Case.objects.get(pk=cases[name].pk)
        assert case.analysis_state == "done", (name, case.analysis_error)
        assert case.incident_type == incident, (name, case.priority_reasons)
        assert case.priority_band in bands, (name, case.priority_band, case.priority_reasons)
        assert any(reason in r for r in case.priority_reasons), (name, case.priority_reasons)
        assert case.suspected_prank is prank, name
    ranked = list(Case.objects.active().order_by("-priority_base").values_list("pk", flat=True))
    assert ranked[-1] == cases["prank_aliens.ogg"].pk  # the prank waits last (never hidden)


def test_the_embedded_demo_has_a_shift_to_audit(settings, media_root):
    import io
    import json

    from django.core.management import call_command

    from audits.models import Audit, AuditItem

    settings.DEMO_MODE = True
    call_command("demo_setup", stdout=io.StringIO())
    out = io.StringIO()
    call_command("audit_demo", stdout=out)
    assert "5 earlier calls picked for review, 3 audited" in out.getvalue()
    assert AuditItem.objects.count() == 5 and Audit.objects.count() == 3
    assert Case.objects.active().count() == 5  # the live demo calls stay in the queue
    report = io.StringIO()
    call_command("audit_report", "--json", stdout=report)
    figures = json.loads(report.getvalue())
    assert figures["all"]["audited"] == 3
    call_command("audit_demo", stdout=out)  # a second run adds nothing
    assert AuditItem.objects.count() == 5
