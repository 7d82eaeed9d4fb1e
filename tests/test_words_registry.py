"""The words model's lifecycle through the pages: the shipped version registered and in use, a new
version trained from the supervisors' audited calls, judged on the benchmark's held-out part,
promoted after seeing what changes, read by the next call's text step, rolled back."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from django.urls import reverse

from analysis import dispatch, pipeline
from analysis.models import AnalysisStep, StepName, StepState, WordsModelActivation, WordsModelVersion
from analysis.words_registry import words_model_active_folder, words_model_version_active
from audits import services as audit_services
from audits.models import AuditItem
from core.speech.transcript import Transcript
from core.text.analysis import TextAnalysis
from learning.models import RunState, WordsTrainingRun
from learning.words_training import audited_examples

pytestmark = pytest.mark.django_db

AUDITED = [  # (what the transcriber heard, a supervisor's corrected words, genuine, incident type)
    ("my mother fell down she is not breathing please send ambulance to sector nine", "", True, "medical"),
    ("there is a fire in the godown near the railway crossing people are inside", "", True, "fire"),
    ("two men with a knife are beating my brother outside the dhaba", "", True, "crime"),
    ("ha ha is this the police I dare you to come and catch me", "", False, "other"),
    ("I want to order one large pizza with extra cheese", "I want to order one large pizza with extra cheese please",
     False, "other"),
    ("hello hello testing my phone just checking if it works", "", False, "other"),
]


def _audited_calls(case_factory, supervisor) -> None:
    for i, (heard, corrected, genuine, incident) in enumerate(AUDITED):
        case = case_factory(caller_number=f"+91 98111 {i:05d}")
        item = AuditItem.objects.create(case=case, reasons=["random"], transcript=heard)
        audit_services.audit_record(item=item, supervisor=supervisor, category="stressful" if genuine else "prank",
                                    genuine=genuine, incident_type=incident, corrected_transcript=corrected)


def test_the_shipped_version_is_registered_in_use_and_shown_with_its_held_out_figures(client, admin_user):
    shipped = WordsModelVersion.objects.get(name="words-v2")
    assert words_model_version_active() == shipped and not WordsModelActivation.objects.exists()
    client.force_login(admin_user)
    page = client.get(reverse("learning:words_model_list")).content.decode()
    row = re.search(r'<tr data-version="words-v2".*?</tr>', page, re.S).group(0)
    assert "in use" in row and "0.836" in row and "0.823" in row and "901 transcripts (the benchmark's tuning part)" in row
    assert "Nothing to roll back to" in page


def test_the_audited_calls_are_learned_by_their_supervisors_latest_answer(case_factory, supervisor):
    _audited_calls(case_factory, supervisor)
    item = AuditItem.objects.get(transcript__startswith="two men")
    first = item.audits.get()
    audit_services.audit_record(item=item, supervisor=supervisor, category="calm", genuine=False,
                                incident_type="other", supersedes=first)  # changed their mind
    examples = audited_examples()
    assert len({e.group for e in examples}) == len(AUDITED)
    assert len(examples) == len(AUDITED) + 1  # the pizza call's corrected words too
    knife = [e for e in examples if e.text.startswith("two men")]
    assert len(knife) == 1 and knife[0].emergency is False and knife[0].incident is None
    fire = next(e for e in examples if "fire" in e.text)
    assert fire.emergency is True and fire.incident == "fire"


@pytest.mark.django_db(transaction=True)
def test_a_version_trained_from_audits_is_promoted_read_by_the_next_call_and_rolled_back(
        settings, client, admin_user, supervisor, case_factory):
    settings.ANALYSIS_BACKEND = "inprocess"
    _audited_calls(case_factory, supervisor)
    client.force_login(admin_user)
    page = client.get(reverse("learning:words_model_list")).content.decode()
    assert re.search(r'id="audited-calls">6<', page)

    words_page = reverse("learning:words_model_list")
    response = client.submit(words_page, reverse("learning:words_model_train"), {"note": "first month of audits"},
                             follow=True)
    assert "started" in response.content.decode()
    dispatch.wait_for_inprocess(timeout=300)
    run = WordsTrainingRun.objects.get()
    assert run.state == RunState.DONE, run.error
    new = run.version
    assert new.name == f"words-run{run.pk}" and words_model_version_active().name == "words-v2"  # registered, not used
    lineage = new.metadata["lineage"]
    assert lineage["audited_calls"] == 6 and lineage["audited_examples"] == 7 and lineage["parent"] == "words-v2"
    assert lineage["benchmark_examples"] == 901 and lineage["note"] == "first month of audits"
    figures = new.metadata["figures"]
    assert figures["heldout_examples"] == 600 and 0.6 < figures["emergency_auc_heldout_vs_non_genuine"] <= 1
    assert new.metadata["reliability"]["emergency_auc_heldout"] == min(figures["emergency_auc_heldout_vs_non_genuine"],
                                                                       figures["emergency_auc_heldout_vs_routine"])

    # Promote: first what changes, side by side, nothing changed yet; then confirmed.
    promote = reverse("learning:words_model_promote", args=[new.pk])
    confirm = client.submit(words_page, promote, {"reason": "learns our callers' words"}).content.decode()
    assert 'id="promote-changes"' in confirm and "Now: words-v2" in confirm and f"After: {new.name}" in confirm
    assert not WordsModelActivation.objects.exists()
    confirmed = re.search(r'id="promote-confirm-form".*?name="csrfmiddlewaretoken" value="([^"]+)"', confirm, re.S)
    client.post(promote, {"reason": "learns our callers' words", "confirmed": "yes",
                          "csrfmiddlewaretoken": confirmed.group(1)})
    assert words_model_version_active() == new
    assert words_model_active_folder().endswith(f"models/words-run{run.pk}")
    reading = pipeline.analyse_words(Transcript(text="he is not breathing send an ambulance", words=[],
                                                audio_seconds=3.0)).model
    assert reading["version"] == new.name

    page = client.get(reverse("learning:words_model_list")).content.decode()
    assert re.search(rf'<tr data-version="{new.name}" class="table-success">', page)
    assert "learns our callers&#x27; words" in page and "Makes <strong>words-v2</strong> read the words again" in page

    client.submit(words_page, reverse("learning:words_model_rollback"), {"reason": "too few audits yet"})
    assert words_model_version_active().name == "words-v2"
    assert [a.action for a in WordsModelActivation.objects.order_by("pk")] == ["promote", "rollback"]
    assert pipeline.words_model().metadata["version"] == "words-v2"


def test_refusals_say_why_and_change_nothing(settings, client, admin_user, tmp_path):
    client.force_login(admin_user)
    words_page = reverse("learning:words_model_list")
    token = client.csrf_token(words_page)
    shipped = WordsModelVersion.objects.get(name="words-v2")
    promote = reverse("learning:words_model_promote", args=[shipped.pk])
    page = client.post(promote, {"reason": "again", "confirmed": "yes", "csrfmiddlewaretoken": token},
                       follow=True).content.decode()
    assert "words-v2 is the words model in use already" in page
    page = client.post(promote, {"reason": "", "confirmed": "yes", "csrfmiddlewaretoken": token},
                       follow=True).content.decode()
    assert "This field is required" in page
    page = client.post(reverse("learning:words_model_rollback"), {"reason": "oops", "csrfmiddlewaretoken": token},
                       follow=True).content.decode()
    assert "There is no earlier words model to roll back to" in page
    assert not WordsModelActivation.objects.exists()

    settings.WORDS_TRAINING_DATA_DIR = str(tmp_path / "nowhere")
    page = client.submit(words_page, reverse("learning:words_model_train"), {}, follow=True).content.decode()
    assert "The words training data is not in" in page and not WordsTrainingRun.objects.exists()


def test_an_altered_version_folder_is_refused_at_promotion(client, admin_user, settings, tmp_path):
    from analysis.words_registry import words_model_register

    folder = tmp_path / "words-copy"
    shutil.copytree(settings.BASE_DIR / "ml_models" / "words-v2", folder)
    meta = json.loads((folder / "metadata.json").read_text())
    (folder / "metadata.json").write_text(json.dumps({**meta, "version": "words-copy"}))
    copy = words_model_register(folder=folder, user=admin_user)
    (folder / "words_model.json").write_text((folder / "words_model.json").read_text().replace("0.", "0.9", 1))
    client.force_login(admin_user)
    page = client.post(reverse("learning:words_model_promote", args=[copy.pk]),
                       {"reason": "try", "confirmed": "yes",
                        "csrfmiddlewaretoken": client.csrf_token(reverse("learning:words_model_list"))},
                       follow=True).content.decode()
    assert "does not match the checksum" in page and words_model_version_active().name == "words-v2"


@pytest.mark.django_db(transaction=True)
def test_a_failed_training_run_ends_visibly_and_registers_nothing(settings, client, admin_user, tmp_path):
    settings.ANALYSIS_BACKEND = "inprocess"
    broken = tmp_path / "words-data"
    broken.mkdir()
    (broken / "tuning.jsonl").write_text("{not json\n")
    (broken / "heldout.jsonl").write_text("")
    settings.WORDS_TRAINING_DATA_DIR = str(broken)
    shipped = WordsModelVersion.objects.count()
    client.force_login(admin_user)
    client.submit(reverse("learning:words_model_list"), reverse("learning:words_model_train"), {"note": "broken data"})
    dispatch.wait_for_inprocess(timeout=60)
    run = WordsTrainingRun.objects.get()
    assert run.state == RunState.FAILED and "JSONDecodeError" in run.error
    assert WordsModelVersion.objects.count() == shipped
    page = client.get(reverse("learning:words_model_list")).content.decode()
    assert "Failed" in page and "JSONDecodeError" in page


def _read_by_words_v2(case, p_emergency: float) -> None:
    """The text step of the case's recording, as words-v2 read it, with the given P(emergency)."""
    result = pipeline.analyse_words(Transcript(text="please help me there is a problem here", words=[],
                                               audio_seconds=3.0))
    result.model = {**(result.model or {}), "version": "words-v2", "p_emergency": p_emergency}
    AnalysisStep.objects.update_or_create(recording=case.recordings.get(), name=StepName.TEXT,
                                          defaults={"state": StepState.DONE, "result": result.to_dict()})


def _audited_words(case_factory, supervisor, upload, *, agree: bool, n: int) -> None:
    for i in range(n):
        genuine = i % 2 == 0
        case = case_factory(audio=upload("wav"), caller_number=f"+91 98333 {i:05d}")
        _read_by_words_v2(case, 0.9 if genuine == agree else 0.1)
        item = AuditItem.objects.create(case=case, recording=case.recordings.get(), reasons=["random"])
        audit_services.audit_record(item=item, supervisor=supervisor, category="stressful" if genuine else "prank",
                                    genuine=genuine, incident_type="medical" if genuine else "other")


@pytest.mark.parametrize("agree", [False, True])
def test_audits_set_the_words_models_trust_once_there_are_enough(
        agree, case_factory, supervisor, upload, client, admin_user, django_capture_on_commit_callbacks):
    from analysis.services import _word_evidence
    from analysis.words_registry import words_model_trust
    from core.triage.acoustic import MIN_AUDITED

    held_out_trust, why = words_model_trust("words-v2")
    assert held_out_trust == pytest.approx(0.81, abs=0.01) and "held-out AUC on the call benchmark (0.82)" in why
    with django_capture_on_commit_callbacks(execute=True):
        _audited_words(case_factory, supervisor, upload, agree=agree, n=MIN_AUDITED - 2)
    assert words_model_trust("words-v2")[0] == held_out_trust  # too few yet: the benchmark's figure stands
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _audited_words(case_factory, supervisor, upload, agree=agree, n=4)
    trust, why = words_model_trust("words-v2")
    assert f"from {MIN_AUDITED + 2} audited calls" in why
    if agree:
        assert 0.5 < trust != held_out_trust  # perfect agreement on 32 calls: the lower end of its interval
    else:
        assert trust == 0.0
        # the open cases are re-scored with it, and a call's evidence now follows the words model that far
        assert any("open_cases_rescore" in repr(c) for c in callbacks)
    reading = AnalysisStep.objects.filter(name=StepName.TEXT).first()
    evidence = _word_evidence(TextAnalysis.from_dict(reading.result))
    assert evidence.model_trust == trust
    client.force_login(admin_user)
    page = client.get(reverse("learning:words_model_list")).content.decode()
    assert f"from {MIN_AUDITED + 2} audited calls" in page


def test_a_challenger_reads_every_call_in_the_shadow_and_moves_no_priority(client, admin_user, settings, tmp_path,
                                                                            case_factory, upload):
    from analysis.services import _word_evidence
    from analysis.words_registry import words_model_challenger_current, words_model_register

    client.force_login(admin_user)
    words_page = reverse("learning:words_model_list")
    listed = client.get(words_page).content.decode()
    assert 'data-version="words-v1"' in listed and 'data-version="words-v2"' in listed  # both shipped, one in use
    folder = tmp_path / "words-shadow"
    shutil.copytree(settings.BASE_DIR / "ml_models" / "words-v2", folder)
    meta = json.loads((folder / "metadata.json").read_text())
    (folder / "metadata.json").write_text(json.dumps({**meta, "version": "words-shadow"}))
    shadow = words_model_register(folder=folder, user=admin_user)
    challenger = reverse("learning:words_model_challenger")

    page = client.submit(words_page, challenger, {"version": shadow.pk, "reason": "a week beside words-v2"},
                         follow=True).content.decode()
    assert "words-shadow now reads every new call in the shadow" in page
    assert words_model_challenger_current() == shadow
    transcript = Transcript(text="my father is not breathing send an ambulance", words=[], audio_seconds=3.0)
    result = pipeline.analyse_words(transcript)
    assert result.model["version"] == "words-v2" and result.shadow_model["version"] == "words-shadow"
    # the shadow's reading is kept with the words and never read by the triage
    changed = TextAnalysis.from_dict({**result.to_dict(), "shadow_model": {**result.shadow_model, "p_emergency": 0.0}})
    assert _word_evidence(changed) == _word_evidence(result)

    case = case_factory(audio=upload("wav"))
    AnalysisStep.objects.update_or_create(recording=case.recordings.get(), name=StepName.TEXT,
                                          defaults={"state": StepState.DONE, "result": result.to_dict()})
    page = client.get(words_page).content.decode()
    assert "On the last 1 call both read, they" in page and "100 % on the same side" in page

    page = client.submit(words_page, challenger, {"reason": "enough"}, follow=True).content.decode()
    assert "No words version reads in the shadow now" in page and words_model_challenger_current() is None
    assert pipeline.analyse_words(transcript).shadow_model is None
    token = client.csrf_token(words_page)
    page = client.post(challenger, {"version": WordsModelVersion.objects.get(name="words-v2").pk, "reason": "x",
                                    "csrfmiddlewaretoken": token}, follow=True).content.decode()
    assert "a challenger must be another one" in page



def test_the_words_model_names_the_incident_where_no_phrase_names_one():
    from core.text.analysis import analyse
    from core.text.words_model import WordsModelReading

    reading = WordsModelReading("words-test", p_emergency=0.3, incident_type="fire", p_incident=0.35)
    only_a_service = analyse(text="hello police please come fast to sector nine")  # 'police' names no incident
    pipeline.adopt_model_incident(only_a_service, reading)
    assert (only_a_service.incident_type, only_a_service.department) == ("fire", "fire")
    named = analyse(text="my father is not breathing please send an ambulance")
    pipeline.adopt_model_incident(named, reading)
    assert (named.incident_type, named.department) == ("medical", "health")  # the quoted phrase wins
