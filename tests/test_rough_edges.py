"""The rough edges a new operator, supervisor and admin hit (issue 25), checked on the server side:
each test names what the person saw and what the page must do instead."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from analysis import selectors as analysis_selectors
from analysis import services as analysis_services
from analysis.models import AnalysisStep, EmotionModelActivation, StepName, StepState, TriageSettings
from audits.models import Audit, AuditItem
from calls import services
from calls.models import Case, Outcome
from core.triage.policy import DEFAULT_CONFIG
from tests.test_learning import v, variant

pytestmark = pytest.mark.django_db


def _claimed(case_factory, operator, **fields):
    case = case_factory()
    if fields:
        Case.objects.filter(pk=case.pk).update(**fields)  # what the analysis would have set
    services.case_claim(case=case, operator=operator)
    case.refresh_from_db()
    return case


# -- operator ---------------------------------------------------------------------------------------


def test_the_provisional_badge_says_what_it_means_and_leaves_closed_calls(client, operator, case_factory, upload):
    client.force_login(operator)
    waiting = case_factory(audio=upload("wav"))  # analysis handed over on commit: still running here
    panel = client.get(reverse("analysis:case_panel", args=[waiting.pk])).content.decode()
    assert 'id="provisional"' in panel and 'title="The score is a safe guess' in panel
    assert "Provisional while the analysis runs" in panel

    silent = case_factory(caller_number="+91 90000 00002")
    panel = client.get(reverse("analysis:case_panel", args=[silent.pk])).content.decode()
    assert "no audio has been analysed yet" in panel

    services.case_claim(case=waiting, operator=operator)
    services.case_close(case=waiting, user=operator, outcome=Outcome.DUPLICATE, reason="same fire as #1")
    closed = client.get(reverse("analysis:case_panel", args=[waiting.pk])).content.decode()
    assert 'id="provisional"' not in closed and "Provisional" not in closed


@pytest.mark.parametrize("incident, expected", [("medical", Outcome.HEALTH), ("fire", Outcome.FIRE),
                                                ("road_accident", Outcome.HEALTH), ("women_safety", Outcome.WOMENS_HELP),
                                                ("crime", Outcome.POLICE)])
def test_the_close_form_defaults_to_the_incident_types_department(client, operator, case_factory, incident, expected):
    case = _claimed(case_factory, operator, incident_type=incident)
    client.force_login(operator)
    page = client.get(case.get_absolute_url()).content.decode()
    assert re.search(rf'<option value="{expected.value}"\s+selected>', page), page[page.find("id_outcome"):][:600]
    assert f"Suggested from the incident type ({incident})" in page


def test_an_unknown_incident_type_gets_no_default_and_a_blank_outcome_is_refused(client, operator, case_factory):
    case = _claimed(case_factory, operator, incident_type="other")
    client.force_login(operator)
    page = client.get(case.get_absolute_url()).content.decode()
    select = page[page.find('id="id_outcome"'):page.find("</select>", page.find('id="id_outcome"'))]
    assert select.count("selected") == 1 and '<option value="" selected>Choose the outcome…</option>' in select
    response = client.submit(case.get_absolute_url(), reverse("calls:case_close", args=[case.pk]),
                             {"outcome": "", "reason": "gone"}, follow=True)
    assert "Choose the outcome of the call." in response.content.decode()
    case.refresh_from_db()
    assert case.status == "claimed" and case.outcome == ""


@pytest.mark.parametrize("outcome", ["duplicate", "silent_abandoned", "referred"])
def test_duplicate_silent_and_referred_calls_can_be_closed_as_such(client, operator, case_factory, outcome):
    case = _claimed(case_factory, operator)
    client.force_login(operator)
    client.submit(case.get_absolute_url(), reverse("calls:case_close", args=[case.pk]),
                  {"outcome": outcome, "reason": "told the caller"})
    case.refresh_from_db()
    assert case.status == "closed" and case.outcome == outcome


def test_unclaimed_calls_come_first_in_all_open_calls(client, operator, operator2, case_factory):
    now = timezone.now()
    first, second, third = (case_factory(caller_number=f"+91 90000 0001{i}", received_at=now - timedelta(minutes=5 - i))
                            for i in range(3))
    services.case_claim(case=first, operator=operator2)  # the longest-waiting call is being handled
    client.force_login(operator)
    page = client.get(reverse("calls:case_list")).content.decode()
    order = [int(pk) for pk in re.findall(r'class="queue-row[^"]*" data-case="(\d+)"', page)]
    assert order == [second.pk, third.pk, first.pk]
    assert re.search(rf'class="queue-row[^"]* claimed" data-case="{first.pk}"', page)
    assert "Calls nobody has claimed come before claimed ones." in page
    # the other views keep the plain queue order
    mine = client.get(reverse("calls:case_list") + "?view=unclaimed").content.decode()
    assert [int(pk) for pk in re.findall(r'data-case="(\d+)"', mine)] == [second.pk, third.pk]


def test_every_date_has_one_form_in_the_portals_time_zone(client, operator, supervisor, case_factory, settings):
    assert settings.TIME_ZONE == "Asia/Kolkata"
    received = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    case = case_factory(received_at=received)
    services.note_add(case=case, author=operator, text="caller calm now")
    local = timezone.localtime(received)
    client.force_login(supervisor)
    page = client.get(case.get_absolute_url()).content.decode()
    expected = local.strftime("%Y-%m-%d %H:%M:%S")
    assert f'<time datetime="{received.isoformat()}" title="Asia/Kolkata (IST)">{expected}</time>' in page
    stamps = re.findall(r"<time [^>]*>([^<]*)</time>", page)
    assert len(stamps) >= 3 and all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", s) for s in stamps), stamps
    assert "p.m." not in page and "a.m." not in page
    operations = client.get(reverse("audits:operations")).content.decode()
    as_of = re.search(r'id="operations-updated">as of (.*?)</span>', operations).group(1)
    assert re.fullmatch(r'<time datetime="[^"]+" title="Asia/Kolkata \(IST\)">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d</time>', as_of)
    assert "+00:00<" not in operations


def test_the_time_filter_reads_utc_iso_strings_and_naive_times_in_the_portal_zone():
    from calls.templatetags.portal_time import when, when_text

    assert when_text(datetime(2026, 12, 4, 13, 22, 3, tzinfo=UTC)) == "2026-12-04 18:52:03"
    assert when_text("2026-12-04T13:22:03+00:00") == "2026-12-04 18:52:03"
    assert when_text(None) == "" and when(None) == "—"


# -- supervisor -------------------------------------------------------------------------------------


def _audit_item(case_factory, operator, **system):
    case = _claimed(case_factory, operator)
    services.case_close(case=case, user=operator, outcome=Outcome.HEALTH, reason="ambulance")
    return AuditItem.objects.create(case=case, reasons=["random"], **system)


def test_one_click_agrees_with_the_system_keeping_the_comment(client, operator, supervisor, case_factory):
    item = _audit_item(case_factory, operator, system_category="stressful", system_suspected_prank=False,
                       system_incident_type="medical")
    client.force_login(supervisor)
    page = client.get(item.get_absolute_url()).content.decode()
    assert 'id="agree-with-system"' in page and "stressful · genuine · medical" in page
    response = client.submit(item.get_absolute_url(), data={"agree": "1", "comment": "as heard", "category": "calm"})
    assert response.status_code == 302
    audit = Audit.objects.get()
    assert (audit.category, audit.genuine, audit.incident_type, audit.comment) == ("stressful", True, "medical", "as heard")


def test_agreeing_with_a_suspected_prank_records_a_prank(client, operator, supervisor, case_factory):
    item = _audit_item(case_factory, operator, system_category="prank", system_suspected_prank=True,
                       system_incident_type="")
    client.force_login(supervisor)
    client.submit(item.get_absolute_url(), data={"agree": "1"})
    audit = Audit.objects.get()
    assert (audit.category, audit.genuine, audit.incident_type) == ("prank", False, "other")


def test_there_is_nothing_to_agree_with_without_a_system_category(client, operator, supervisor, case_factory):
    item = _audit_item(case_factory, operator, system_category="", system_incident_type="medical")
    client.force_login(supervisor)
    assert 'id="agree-with-system"' not in client.get(item.get_absolute_url()).content.decode()
    response = client.submit(item.get_absolute_url(), data={"agree": "1"})
    assert response.status_code == 200 and "The system gave no triage category" in response.content.decode()
    assert not Audit.objects.exists()


def test_an_overrides_typed_reason_is_the_calls_why(client, operator, supervisor, case_factory):
    case = case_factory()
    analysis_services.case_override_priority(case=case, supervisor=supervisor, score=90,
                                             reason="caller known to us: heart patient")
    case.refresh_from_db()
    assert case.priority_reasons[0] == "supervisor override: caller known to us: heart patient (sunita)"
    client.force_login(operator)
    queue = client.get(reverse("calls:case_list")).content.decode()
    assert "supervisor override: caller known to us: heart patient (sunita)" in queue
    assert "set by a supervisor" not in queue
    panel = client.get(reverse("analysis:case_panel", args=[case.pk])).content.decode()
    assert re.search(r'id="override-reason">supervisor override: caller known to us: heart patient', panel)


def test_operations_tells_a_steps_run_from_the_wait_for_its_result(client, supervisor, case_factory, upload):
    case = case_factory(audio=upload("wav"))
    steps = AnalysisStep.objects.filter(recording__case=case, name=StepName.EMOTION)
    arrived = steps.get().created_at
    steps.update(state=StepState.DONE, seconds=0.4, started_at=arrived + timedelta(seconds=12),
                 finished_at=arrived + timedelta(seconds=12.4))
    client.force_login(supervisor)
    page = client.get(reverse("audits:operations")).content.decode()
    latency = re.search(r'id="analysis-latency">(.*?)</span>', page, re.S).group(1)
    assert "emotion 0.4/0.4 s run; 12.4/12.4 s from arrival" in latency
    assert "from the audio&#x27;s arrival to the result" in page or "from the audio's arrival to the result" in page


# -- admin ------------------------------------------------------------------------------------------


AGENCY_LABELS = ["angry", "calm", "prank", "stressful"]


def test_a_label_only_the_agencys_model_gives_is_mappable_and_then_promotable(client, admin_user, tmp_path):
    agency = variant(tmp_path, "emotion-agency-audits", labels=AGENCY_LABELS)
    config = analysis_selectors.triage_config_active()
    assert "prank" not in config.label_mapping
    assert analysis_selectors.emotion_model_promotion_blockers(agency, config) == [
        "the triage label mapping does not cover prank"]
    client.force_login(admin_user)
    detail = client.get(reverse("learning:model_detail", args=[agency.pk])).content.decode()
    assert 'id="map-labels"' in detail

    settings_page = client.get(reverse("analysis:triage_settings")).content.decode()
    assert 'name="m_prank"' in settings_page and "model label &#x27;prank&#x27; (not mapped yet)" in settings_page
    assert "given by emotion-agency-audits" in settings_page
    from tests.test_triage_services import _settings_form

    client.submit(reverse("analysis:triage_settings"), data=_settings_form(m_prank="prank", note="agency labels"))
    assert analysis_selectors.triage_config_active().label_mapping["prank"] == "prank"
    assert analysis_selectors.emotion_model_promotion_blockers(agency, analysis_selectors.triage_config_active()) == []


def test_promoting_shows_what_changes_and_warns_when_weaker_before_changing_anything(client, admin_user):
    cnn = v("emotion-ravdess-v2")  # against the active Whisper-encoder version: lower UA and AUCs
    client.force_login(admin_user)
    page_url = reverse("learning:model_detail", args=[cnn.pk])
    action = reverse("learning:model_promote", args=[cnn.pk])
    first = client.submit(page_url, action, {"reason": "try it"})
    assert first.status_code == 200 and not EmotionModelActivation.objects.exists()
    text = first.content.decode()
    assert 'id="promote-warnings"' in text and "its UA on held-out speakers is lower: 0.672 against 0.729" in text
    assert "its distress AUC on held-out speakers is lower: 0.873 against 0.931" in text
    assert "Promote it anyway" in text and 'name="confirmed" value="yes"' in text
    assert re.search(r"<th>Now: emotion-whisper-v1</th><th>After: emotion-ravdess-v2</th>", text)
    done = client.submit(page_url, action, {"reason": "try it", "confirmed": "yes"}, follow=True)
    assert b"emotion-ravdess-v2 is now the active emotion model" in done.content
    assert EmotionModelActivation.objects.get().version == cnn


def test_an_equal_version_is_confirmed_without_a_warning(client, admin_user, tmp_path):
    twin = variant(tmp_path, "emotion-whisper-twin")
    client.force_login(admin_user)
    response = client.submit(reverse("learning:model_detail", args=[twin.pk]),
                             reverse("learning:model_promote", args=[twin.pk]), {"reason": "same figures"})
    assert response.status_code == 200 and 'id="promote-warnings"' not in response.content.decode()
    assert not EmotionModelActivation.objects.exists()


def test_restore_is_its_own_confirmed_form_showing_the_difference(client, admin_user):
    from tests.test_triage_services import _settings_form

    client.force_login(admin_user)
    client.submit(reverse("analysis:triage_settings"), data=_settings_form(w_prank=10, note="gentler"))
    settings_page = client.get(reverse("analysis:triage_settings")).content.decode()
    assert f'href="{reverse("analysis:triage_settings_restore", args=[1])}"' in settings_page
    assert "/restore/" not in re.search(r'<form method="get"[^>]*id="settings-compare">.*?</form>', settings_page,
                                        re.S).group(0).replace(reverse("analysis:triage_settings_restore", args=[1]), "")
    confirm = client.get(reverse("analysis:triage_settings_restore", args=[1])).content.decode()
    assert "Every open case" in confirm and re.search(r"<th>weight prank</th><td>10(\.0)?</td><td>", confirm)
    # a POST without the confirmation (a stray click, a replayed request) restores nothing
    client.post(reverse("analysis:triage_settings_restore", args=[1]), {"csrfmiddlewaretoken": client.csrf_token(
        reverse("analysis:triage_settings"))})
    assert TriageSettings.objects.count() == 1
    done = client.submit(reverse("analysis:triage_settings_restore", args=[1]), data={"confirmed": "yes", "note": "back"},
                         follow=True)
    assert b"v1 restored as v3" in done.content
    assert TriageSettings.objects.get(version=3).as_config().weights == DEFAULT_CONFIG.weights
    assert client.get(reverse("analysis:triage_settings_restore", args=[99]), follow=True).status_code == 200
    assert TriageSettings.objects.count() == 2


def test_the_cnn_page_shows_the_aucs_its_trust_comes_from_and_a_compact_history(client, admin_user):
    cnn = v("emotion-ravdess-v2")
    client.force_login(admin_user)
    page = client.get(reverse("learning:model_detail", args=[cnn.pk])).content.decode()
    figures = re.search(r'<table class="table table-sm" id="figures">.*?</table>', page, re.S).group(0)
    assert "0.873*" in figures and "0.654*" in figures
    assert 'id="auc-note"' in page and "held-out distress AUC 0.873, unseen-corpus 0.654" in page
    assert "Triage trust in its voice: <strong>0.39</strong>" in page
    history = re.search(r'id="training-history">.*?</table>', page, re.S).group(0)
    assert history.count("<tr>") == 4  # a header and one row per ensemble member, not 150 epochs
    assert "'val_ua'" not in page and "{&#x27;epoch&#x27;" not in page
    assert "0.578" in history or re.search(r"<td>50</td>", history)


def test_a_versions_lineage_names_its_datasets_and_the_compare_form_has_a_and_b_columns(client, admin_user, tmp_path,
                                                                                          settings):
    trained = variant(tmp_path, "emotion-from-audits", dataset={
        "path": str(settings.MEDIA_ROOT), "scheme": "manifest", "n_clips": 48, "fingerprint": "ab" * 32,
        "names": ["audit-export-dec"], "ids": [7]})
    client.force_login(admin_user)
    page = client.get(reverse("learning:model_detail", args=[trained.pk])).content.decode()
    lineage = re.search(r'id="lineage-datasets">(.*?)</dd>', page, re.S).group(1)
    assert f'<a href="{reverse("learning:dataset_detail", args=[7])}">audit-export-dec</a>' in lineage
    assert str(settings.MEDIA_ROOT) not in lineage
    shipped = client.get(reverse("learning:model_detail", args=[v("emotion-whisper-v1").pk])).content.decode()
    assert re.search(r'id="lineage-datasets">ravdess\s', shipped)
    listing = client.get(reverse("learning:model_list")).content.decode()
    assert re.search(r'<thead><tr><th scope="col"[^>]*>A</th><th scope="col"[^>]*>B</th><th>Version</th>', listing)
    compared = client.get(reverse("analysis:triage_settings_compare") + "?a=1&b=1").content.decode()
    assert "<th>A: v1</th><th>B: v1</th>" in compared
