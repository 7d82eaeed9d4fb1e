import subprocess
import sys

import pytest
from django.urls import reverse

from tests.conftest import REPO

pytestmark = pytest.mark.django_db


def test_login_and_logout(client, operator):
    response = client.submit(reverse("login"), data={"username": "olivia", "password": "correct horse battery staple"})
    assert response.status_code == 302 and response["Location"] == reverse("calls:case_list")
    assert client.get(reverse("calls:case_list")).status_code == 200
    client.submit(reverse("calls:case_list"), reverse("logout"))
    assert client.get(reverse("calls:case_list")).status_code == 302


def test_a_form_post_without_the_pages_csrf_token_is_refused(client, operator):
    assert client.post(reverse("login"), {"username": "olivia", "password": "correct horse battery staple"}
                       ).status_code == 403
    client.force_login(operator)
    assert client.post(reverse("calls:case_create"), {"caller_number": "98765 43210"}).status_code == 403


def test_wrong_password_is_refused(client, operator):
    response = client.submit(reverse("login"), data={"username": "olivia", "password": "nope"})
    assert response.status_code == 200 and "correct username and password" in response.content.decode()


def test_anonymous_sees_only_the_login_page(client):
    assert client.get(reverse("login")).status_code == 200
    response = client.get(reverse("calls:case_create"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    # Django's LoginRequiredMiddleware acts on views: a path with no view is a bare 404.
    assert client.get("/some/page/that/does/not/exist/").status_code == 404


@pytest.mark.parametrize("role, allowed", [("operator", False), ("supervisor", False), ("admin", True)])
def test_only_admins_manage_users_in_the_django_admin(client, make_user, role, allowed):
    client.force_login(make_user(role))
    response = client.get("/admin/accounts/user/")
    assert (response.status_code == 200) is allowed


def test_deactivated_user_loses_the_role(make_user):
    user = make_user("admin")
    user.is_active = False
    assert not user.has_role("operator")


def test_deploy_check_has_no_warnings():
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "emergency_portal.settings",
        "SECRET_KEY": "a-long-random-production-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "triage.example.org",
        "DATABASE_URL": "sqlite:////tmp/deploy-check.sqlite3",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO, env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_missing_secret_key_is_refused_in_production():
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "emergency_portal.settings"}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr
