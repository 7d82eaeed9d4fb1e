"""Password guessing is throttled without locking the call-takers out (security issue items 3 and 5).

Attacks: (5) 80 wrong passwords over 20 usernames from one address in 29 s were all processed;
(3) five wrong passwords from the office network (one address behind a NAT or the proxy) locked an
operator out for 15 minutes, their own correct attempt included, and every failure restarted the clock.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.urls import reverse

from accounts.login_guard import DEVICE_COOKIE, _key
from tests.conftest import BrowserClient

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"
ADDRESSES = ("127.0.0.1", "10.0.0.5", "10.0.0.6")


@pytest.fixture(autouse=True)
def clean_guard():
    for address in ADDRESSES:
        cache.delete(_key(address))
    yield
    for address in ADDRESSES:
        cache.delete(_key(address))


def test_guessing_many_usernames_from_one_address_is_slowed_down(client, make_user, settings, monkeypatch):
    for i in range(20):
        make_user("operator", f"op{i}")
    # The attack's 80 guesses in 29 s, as if in one instant: on a loaded machine the test's own requests can
    # take longer than the first 1 s delay, which then lets one more guess through.
    monkeypatch.setattr("accounts.login_guard.time", SimpleNamespace(time=lambda: 1_800_000_000.0))
    login = reverse("login")
    answers = []
    for attempt in range(80):
        answers.append(client.submit(login, data={"username": f"op{attempt % 20}", "password": "wrong"}))
    processed = [r for r in answers if r.status_code == 200]
    slowed = [r for r in answers if r.status_code == 429]
    assert len(processed) == settings.LOGIN_ADDRESS_FREE_FAILURES  # then every try must wait
    assert len(slowed) == 80 - len(processed)
    assert all(int(r["Retry-After"]) >= 1 for r in slowed)
    assert "Please wait" in slowed[0].content.decode()
    # no account was locked by it (each username saw at most one processed failure)
    assert not AccessAttempt.objects.filter(failures_since_start__gte=settings.AXES_FAILURE_LIMIT).exists()


def test_a_known_device_gets_its_operator_in_while_others_on_the_network_are_locked_out(operator, settings):
    settings.AXES_FAILURE_LIMIT = 3
    login = reverse("login")
    desk = BrowserClient()  # the operator's own browser: signed in before, so it carries the cookie
    assert desk.submit(login, data={"username": "olivia", "password": PASSWORD}).status_code == 302
    assert desk.cookies[DEVICE_COOKIE].value
    desk.post(reverse("logout"), {"csrfmiddlewaretoken": desk.csrf_token(reverse("calls:case_list"))})
    prankster = BrowserClient()  # same address, no cookie
    for _ in range(3):
        prankster.submit(login, data={"username": "olivia", "password": "wrong"})
    assert prankster.submit(login, data={"username": "olivia", "password": PASSWORD}).status_code == 429
    assert desk.submit(login, data={"username": "OLIVIA", "password": PASSWORD}).status_code == 302
    assert desk.get(reverse("calls:case_list")).status_code == 200


def test_a_wrong_password_from_a_known_device_ends_its_trust(operator):
    login = reverse("login")
    desk = BrowserClient()
    desk.submit(login, data={"username": "olivia", "password": PASSWORD})
    desk.post(reverse("logout"), {"csrfmiddlewaretoken": desk.csrf_token(reverse("calls:case_list"))})
    answer = desk.submit(login, data={"username": "olivia", "password": "wrong"})
    assert answer.cookies[DEVICE_COOKIE].value == ""  # dropped


def test_a_forged_device_cookie_counts_for_nothing(operator, settings):
    settings.AXES_FAILURE_LIMIT = 2
    login = reverse("login")
    forger = BrowserClient()
    forger.cookies[DEVICE_COOKIE] = "olivia"
    for _ in range(2):
        forger.submit(login, data={"username": "olivia", "password": "wrong"})
    assert forger.submit(login, data={"username": "olivia", "password": PASSWORD}).status_code == 429


def test_behind_the_proxy_the_lockout_is_per_real_client(operator, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.TRUSTED_PROXIES = ["127.0.0.1"]  # the test client's address plays the reverse proxy
    login = reverse("login")
    prankster, colleague = BrowserClient(), BrowserClient()
    for _ in range(2):
        prankster.submit(login, data={"username": "olivia", "password": "wrong"}, HTTP_X_FORWARDED_FOR="10.0.0.5")
    assert prankster.submit(login, data={"username": "olivia", "password": PASSWORD},
                            HTTP_X_FORWARDED_FOR="10.0.0.5").status_code == 429
    assert colleague.submit(login, data={"username": "olivia", "password": PASSWORD},
                            HTTP_X_FORWARDED_FOR="10.0.0.6").status_code == 302


def test_a_failure_during_a_lockout_does_not_restart_its_clock(settings):
    assert settings.AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT is False


def test_a_client_cannot_pick_its_address_by_prepending_to_x_forwarded_for(operator, settings):
    from django.test import RequestFactory

    from accounts.login_guard import client_ip

    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    request = RequestFactory().post("/", HTTP_X_FORWARDED_FOR="1.2.3.4, 10.0.0.5")  # the proxy appended .5
    assert client_ip(request) == "10.0.0.5"
    settings.TRUSTED_PROXIES = []
    assert client_ip(request) == "127.0.0.1"  # no proxy trusted: the header is not believed


def _post_to_lockouts(client: BrowserClient, data: dict, token_from: str | None = None):
    """POST to the lockouts page with a token from a page the client may open (the form itself is gone once
    nothing is locked)."""
    url = reverse("lockouts")
    return client.post(url, {**data, "csrfmiddlewaretoken": client.csrf_token(token_from or url)})


def _lock_out_olivia(settings) -> BrowserClient:
    settings.AXES_FAILURE_LIMIT = 2
    login = reverse("login")
    desk = BrowserClient()  # a new computer: no device cookie
    for _ in range(2):
        desk.submit(login, data={"username": "olivia", "password": "wrong"})
    assert desk.submit(login, data={"username": "olivia", "password": PASSWORD}).status_code == 429
    return desk


def test_a_supervisor_releases_a_locked_login_and_the_failures_stay_on_record(operator, supervisor, settings, caplog):
    from axes.models import AccessFailureLog

    desk = _lock_out_olivia(settings)
    page = BrowserClient()
    page.force_login(supervisor)
    listed = page.get(reverse("lockouts"))
    assert listed.status_code == 200
    attempt = AccessAttempt.objects.get(username="olivia")
    assert f'data-attempt="{attempt.pk}"' in listed.content.decode()
    failures_logged = AccessFailureLog.objects.filter(username="olivia").count()

    with caplog.at_level("WARNING", logger="security"):
        released = page.submit(reverse("lockouts"), data={"attempt": attempt.pk})
    assert released.status_code == 200
    assert "olivia can sign in again" in released.content.decode()
    assert "lockout released: user=olivia" in caplog.text and "by=sunita" in caplog.text
    assert AccessFailureLog.objects.filter(username="olivia").count() == failures_logged  # history untouched
    assert desk.submit(reverse("login"), data={"username": "olivia", "password": PASSWORD}).status_code == 302

    again = _post_to_lockouts(page, {"attempt": attempt.pk})
    assert again.status_code == 409 and "not locked any more" in again.content.decode()


def test_an_operator_cannot_release_a_lock_and_nobody_releases_their_own(operator, operator2, make_user, settings):
    from accounts.lockouts import LockoutReleaseRefused, login_lockout_release

    _lock_out_olivia(settings)
    attempt = AccessAttempt.objects.get(username="olivia")
    colleague = BrowserClient()
    colleague.force_login(operator2)
    assert _post_to_lockouts(colleague, {"attempt": attempt.pk}, token_from=reverse("calls:case_list")).status_code == 403
    with pytest.raises(LockoutReleaseRefused):
        login_lockout_release(attempt_id=attempt.pk, by=operator2)
    settings.AXES_FAILURE_LIMIT = 2
    boss = make_user("supervisor", "sanjay")
    for _ in range(2):
        BrowserClient().submit(reverse("login"), data={"username": "sanjay", "password": "wrong"})
    with pytest.raises(LockoutReleaseRefused, match="their own"):
        login_lockout_release(attempt_id=AccessAttempt.objects.get(username="sanjay").pk, by=boss)
    assert AccessAttempt.objects.filter(username__in=["olivia", "sanjay"]).count() == 2  # nothing released


def test_releasing_nothing_is_bad_input(supervisor):
    page = BrowserClient()
    page.force_login(supervisor)
    answer = _post_to_lockouts(page, {"attempt": "x"})
    assert answer.status_code == 400 and "Choose a locked login" in answer.content.decode()
