"""The static files build as production builds them (DEBUG=0: whitenoise's compressed manifest
storage), and a page renders from that manifest. Before, post-processing failed on the vendored
Bootstrap's sourceMappingURL to a .map that is not vendored, so no page could render under DEBUG=0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_collectstatic_with_the_production_storage_succeeds_and_a_page_renders_from_it(tmp_path, settings, client):
    # the production settings, not the test settings' environment (which picks plain storage)
    env = {k: v for k, v in os.environ.items() if k != "STATICFILES_BACKEND"}
    env |= {"DEBUG": "0", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "localhost", "SECURE_SSL": "0",
           "STATIC_ROOT": str(tmp_path / "static"), "DJANGO_SETTINGS_MODULE": "emergency_portal.settings"}
    run = subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    manifest = tmp_path / "static" / "staticfiles.json"
    assert manifest.exists() and "vendor/bootstrap/bootstrap.bundle.min.js" in manifest.read_text()
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    settings.DEBUG = False
    page = client.get("/accounts/login/", HTTP_HOST="localhost")
    assert page.status_code == 200
    assert "/static/vendor/bootstrap/bootstrap.min." in page.content.decode()  # the hashed name
