"""An admin compares two emotion model versions and promotes one, in a real Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from analysis.models import EmotionModelActivation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_compares_and_promotes_a_version(login, off_loop, admin_user, artifacts):
    page = login(admin_user)
    page.goto("/learning/models/")
    expect(page.locator('#model-versions tr[data-version="emotion-whisper-v1"]')).to_contain_text("active")
    page.get_by_label("compare emotion-ravdess-v2 as B").check()
    page.get_by_role("button", name="Compare A and B").click()
    expect(page.locator("#compare-figures")).to_contain_text("emotion-ravdess-v2")
    expect(page.locator("#protocol-warning")).to_be_visible()
    for picture in page.locator("img").all():
        page.wait_for_function("img => img.complete && img.naturalWidth > 200", arg=picture.element_handle())
    page.screenshot(path=artifacts / "model-compare.png", full_page=True)

    page.get_by_role("link", name="emotion-ravdess-v2").first.click()
    page.fill("#promote-form input[name=reason]", "a week in the shadow of v1")
    page.get_by_role("button", name="Promote").click()
    expect(page.locator("#promote-warnings")).to_contain_text("lower")  # weaker than the active version
    page.get_by_role("button", name="Promote it anyway").click()
    expect(page.locator(".alert-success")).to_contain_text("emotion-ravdess-v2 is now the active emotion model")
    expect(page.locator("#activation-history")).to_contain_text("a week in the shadow of v1")
    page.screenshot(path=artifacts / "model-list.png", full_page=True)
    assert off_loop(lambda: EmotionModelActivation.objects.get().version.name) == "emotion-ravdess-v2"


def test_an_admin_imports_a_dataset_and_explores_it(login, admin_user, artifacts, ravdess_dir):
    """The server process imports in a background thread of its own (no broker in the tests)."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for actor in ("Actor_01", "Actor_02"):
            for path in sorted((ravdess_dir / actor).iterdir())[::6]:
                z.write(path, f"{actor}/{path.name}")
        z.writestr("readme.txt", "not audio")
    page = login(admin_user)
    page.goto("/learning/datasets/")
    page.fill("#id_name", "ravdess-sample")
    page.set_input_files("#id_archive", {"name": "sample.zip", "mimeType": "application/zip", "buffer": buffer.getvalue()})
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#state")).to_have_text("Imported", timeout=60_000)
    expect(page.locator("#counts")).to_contain_text("female")
    expect(page.locator("#refused")).to_contain_text("readme.txt: not an audio file")
    chart = page.get_by_alt_text("Clips per label and gender")
    page.wait_for_function("img => img.complete && img.naturalWidth > 200", arg=chart.element_handle())
    page.screenshot(path=artifacts / "dataset-explorer.png", full_page=True)


def test_an_admin_follows_a_training_run_live(login, admin_user, artifacts, ravdess_dir):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for actor in range(1, 5):
            for path in sorted((ravdess_dir / f"Actor_{actor:02d}").iterdir())[::8]:
                z.write(path, path.name)
    page = login(admin_user)
    page.goto("/learning/datasets/")
    page.fill("#id_name", "four-actors")
    page.set_input_files("#id_archive", {"name": "four.zip", "mimeType": "application/zip", "buffer": buffer.getvalue()})
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#state")).to_have_text("Imported", timeout=60_000)

    page.goto("/learning/training/")
    page.select_option("#id_dataset", label="four-actors")
    page.fill("#id_folds", "2")
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#live-indicator")).to_have_text("● Live")
    page.evaluate("window.stillTheSamePage = true")
    expect(page.locator("#run-message")).to_contain_text("fold 1 of 2", timeout=120_000)
    page.screenshot(path=artifacts / "training-run.png", full_page=True)
    expect(page.locator("#run-state")).to_have_text("Done", timeout=120_000)
    expect(page.locator("#run-result")).to_contain_text("emotion-four-actors-run")
    assert page.evaluate("window.stillTheSamePage") is True  # followed over the websocket, never reloaded


def test_an_admin_judges_two_versions_on_the_same_unheard_voices(login, off_loop, admin_user, artifacts, emodb_dir):
    """Both shipped versions judged on EmoDB speakers neither heard; the figures arrive live."""
    from analysis.models import EmotionModelVersion
    from tests.test_evaluations import emodb_archive

    page = login(admin_user)
    page.goto("/learning/datasets/")
    page.fill("#id_name", "emodb-six")
    page.set_input_files("#id_archive", {"name": "emodb.zip", "mimeType": "application/zip",
                                         "buffer": emodb_archive(emodb_dir, labels=("angry", "neutral"))})
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#state")).to_have_text("Imported", timeout=60_000)
    whisper, cnn = off_loop(lambda: [EmotionModelVersion.objects.get(name=n).pk
                                     for n in ("emotion-whisper-v1", "emotion-ravdess-v2")])
    page.goto(f"/learning/models/compare/?a={whisper}&b={cnn}")
    page.select_option("#evaluation-form select[name=dataset]", label="emodb-six")
    page.get_by_role("button", name="Judge both").click()
    expect(page.locator(".alert-success")).to_contain_text("6 unheard speakers of emodb-six")
    page.evaluate("window.stillTheSamePage = true")
    expect(page.locator("#evaluations-live .evaluation-figures")).to_contain_text("emotion-ravdess-v2", timeout=180_000)
    for picture in page.locator("#evaluations-live img").all():
        page.wait_for_function("img => img.complete && img.naturalWidth > 200", arg=picture.element_handle())
    page.locator("#evaluations").screenshot(path=artifacts / "model-compare-unheard.png")
    assert page.evaluate("window.stillTheSamePage") is True  # arrived over the websocket, never reloaded
