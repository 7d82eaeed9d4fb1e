"""One process definition: the Procfile that `honcho start` runs is also what `honcho export systemd`
turns into units, and what the first admin's account is made with on a new installation."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User

ROOT = Path(__file__).resolve().parents[2]


def _procfile() -> dict[str, str]:
    processes = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, command = line.partition(":")
            processes[name.strip()] = command.strip()
    return processes


def test_the_procfile_runs_the_web_process_on_loopback_and_a_worker_per_queue():
    processes = _procfile()
    assert set(processes) == {"web", "emotion", "words", "beat", "live", "audiosocket"}
    assert "-b 127.0.0.1" in processes["web"]  # only nginx in front reaches it
    assert "manage.py live_worker" in processes["live"] and "manage.py live_audiosocket" in processes["audiosocket"]
    queues = {"emotion": "-Q emotion ", "words": "-Q words,celery "}
    for name, flag in queues.items():
        assert flag in processes[name]
    from django.conf import settings

    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    served = {q for name in queues for q in processes[name].split("-Q ")[1].split()[0].split(",")}
    assert routed <= served, f"queues nobody serves: {routed - served}"


def test_systemd_units_are_exported_from_the_same_procfile(tmp_path):
    subprocess.run([str(ROOT / ".venv" / "bin" / "honcho"), "export", "systemd", str(tmp_path), "-a", "portal",
                    "-u", "portal", "-f", str(ROOT / "Procfile"), "-d", str(ROOT)],
                   check=True, capture_output=True, cwd=ROOT)
    for name, command in _procfile().items():
        unit = (tmp_path / f"portal-{name}-1.service").read_text()
        assert command in unit and "Restart=always" in unit and "User=portal" in unit
    assert "portal-web.target" in (tmp_path / "portal.target").read_text()


@pytest.mark.django_db
def test_the_first_admin_is_made_from_the_shell(monkeypatch, capsys):
    monkeypatch.setenv("PORTAL_PASSWORD", "a-long-and-unusual-passphrase")
    call_command("user_create", "first-admin", "--role", "admin")
    admin = User.objects.get(username="first-admin")
    assert admin.role == "admin" and admin.is_staff and not admin.is_superuser
    assert admin.check_password("a-long-and-unusual-passphrase")
    with pytest.raises(CommandError, match="already a user"):
        call_command("user_create", "FIRST-admin", "--role", "operator")
    monkeypatch.setenv("PORTAL_PASSWORD", "123")
    with pytest.raises(CommandError, match="Password refused"):
        call_command("user_create", "weak", "--role", "operator")
    assert not User.objects.filter(username="weak").exists()
