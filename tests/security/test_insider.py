"""An admin of the portal is not a Django superuser: the attacks of an insider with the admin role.

Attack (security issue item 7): the user admin let an admin tick ``is_superuser`` on themselves,
mint a non-expiring DRF token for an operator and act as them, and delete the login-lockout records.
"""

from __future__ import annotations

import logging

import pytest
from axes.models import AccessAttempt
from django.urls import NoReverseMatch, reverse
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


def _change_form(user, **changes) -> dict:
    data = {"username": user.username, "role": user.role, "is_active": "on",
            "date_joined_0": "2026-12-01", "date_joined_1": "10:00:00", "last_login_0": "", "last_login_1": ""}
    data.update(changes)
    return data


def test_an_admin_cannot_make_themselves_superuser_or_change_their_own_role(client, admin_user):
    client.force_login(admin_user)
    url = reverse("admin:accounts_user_change", args=[admin_user.pk])
    page = client.get(url).content.decode()
    assert 'name="is_superuser"' not in page and 'name="user_permissions"' not in page
    token = client.csrf_token(url)
    response = client.post(url, _change_form(admin_user, is_superuser="on", is_staff="on", role="operator",
                                             csrfmiddlewaretoken=token))
    assert response.status_code in (200, 302)
    admin_user.refresh_from_db()
    assert not admin_user.is_superuser and admin_user.role == "admin"


def test_role_changes_of_others_are_logged_with_who_made_them(client, admin_user, operator, caplog):
    client.force_login(admin_user)
    url = reverse("admin:accounts_user_change", args=[operator.pk])
    token = client.csrf_token(url)
    with caplog.at_level(logging.INFO, logger="security"):
        response = client.post(url, _change_form(operator, role="supervisor", is_superuser="on",
                                                 csrfmiddlewaretoken=token))
    assert response.status_code == 302, response.content[:2000]
    operator.refresh_from_db()
    assert operator.role == "supervisor" and not operator.is_superuser
    assert any(r.getMessage() == f"user {operator.username}: role=supervisor by {admin_user.username}"
               for r in caplog.records if r.name == "security")


def test_nobody_mints_a_token_for_someone_else_in_the_admin(client, admin_user, operator):
    client.force_login(admin_user)
    with pytest.raises(NoReverseMatch):
        reverse("admin:authtoken_tokenproxy_add")
    assert client.get("/admin/authtoken/tokenproxy/add/").status_code == 404
    assert not Token.objects.filter(user=operator).exists()


def test_login_lockout_records_cannot_be_deleted_or_edited(client, admin_user):
    attempt = AccessAttempt.objects.create(username="olivia", ip_address="10.1.2.3", user_agent="x",
                                           failures_since_start=5, get_data="", post_data="", path_info="/")
    client.force_login(admin_user)
    token = client.csrf_token(reverse("admin:index"))
    response = client.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]),
                           {"post": "yes", "csrfmiddlewaretoken": token})
    assert response.status_code == 403 and AccessAttempt.objects.filter(pk=attempt.pk).exists()
    assert client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 200  # may look
