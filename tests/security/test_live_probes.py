"""The attacks of the security review, run against a live portal on loopback through the front door
the README gives production (nginx with deploy/nginx/portal.conf, the Procfile's web process, DEBUG
off, TLS): slow clients, oversized and trickling bodies, anonymous uploads to admin-only addresses, a
forged client address, password guessing, cross-origin and unknown websockets, a script planted as
audio, a tampered cursor. Bounded: each attack is a few hundred requests at most and a few seconds.
"""

from __future__ import annotations

import base64
import json
import re
import select
import socket
import ssl
import time

import pytest
import requests

from tests.production import stack as production

pytestmark = [pytest.mark.production]


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    """The web process only (no workers are needed to be attacked), behind nginx."""
    yield from production.running(tmp_path_factory, processes=("web",), redis_dbs=(13, 14),
                                  users=(("asha", "operator"), ("chief", "admin")))


def test_the_client_address_is_the_real_one_not_a_forged_header(portal):
    """A client cannot pick the address its failed logins are counted against."""
    status, headers, body = production.request(portal.https_port, f"GET /accounts/login/ HTTP/1.1\nHost: localhost:{portal.https_port}\n"
                                     "Connection: close\n")
    csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    cookie = re.search(r"csrftoken=([^;]+)", headers["set-cookie"]).group(1)
    form = f"csrfmiddlewaretoken={csrf}&username=asha&password=wrong-password".encode()
    status, _, _ = production.request(portal.https_port, (
        f"POST /accounts/login/ HTTP/1.1\nHost: localhost:{portal.https_port}\nCookie: csrftoken={cookie}\n"
        f"Origin: https://localhost:{portal.https_port}\nReferer: https://localhost:{portal.https_port}/accounts/login/\n"
        "X-Forwarded-For: 203.0.113.9\nContent-Type: application/x-www-form-urlencoded\n"
        f"Content-Length: {len(form)}\nConnection: close\n"), form)
    assert status == 200  # the form again, with its error
    addresses = {row[0] for row in production.query(portal, "SELECT ip_address FROM axes_accessattempt")}
    assert addresses == {"127.0.0.1"}


def test_a_body_over_the_limit_is_refused_from_its_declared_length_without_reading_it(portal):
    answer, seconds = production.first_answer(portal.https_port, (
        f"POST /api/v1/cases/ HTTP/1.1\nHost: localhost:{portal.https_port}\nContent-Type: multipart/form-data; boundary=x\n"
        f"Content-Length: {200 * 1024 * 1024}\nConnection: close\n"), b"--x\r\n")
    assert answer.startswith("HTTP/1.1 413") and seconds < 2, (answer[:200], seconds)
    assert "application/problem+json" in answer and '"status": 413' in answer
    # Ten gigabytes declared, a trickle sent: refused at once, not after the trickle.
    answer, seconds = production.first_answer(portal.https_port, (
        f"POST /cases/new/ HTTP/1.1\nHost: localhost:{portal.https_port}\nContent-Type: multipart/form-data; boundary=x\n"
        f"Content-Length: {10 * 1024 ** 3}\nConnection: close\n"), b"-")
    assert answer.startswith("HTTP/1.1 413") and seconds < 2, (answer[:200], seconds)
    assert "audio files up to 50 MB" in answer  # the portal's own page, not nginx's


def test_an_anonymous_upload_to_the_dataset_import_is_refused_before_its_body_is_read(portal):
    """300 MB declared to an address only admins may post to: refused by the gate, unread."""
    with production.tls(portal.https_port) as conn:
        conn.settimeout(10)
        conn.sendall((f"POST /learning/datasets/ HTTP/1.1\r\nHost: localhost:{portal.https_port}\r\n"
                      "Content-Type: application/zip\r\n"
                      f"Content-Length: {300 * 1024 * 1024}\r\nConnection: close\r\n\r\n").encode())
        sent = 0
        refused_at = None
        chunk = b"\0" * 65536
        try:
            while sent < 20 * 1024 * 1024:
                conn.sendall(chunk)
                sent += len(chunk)
        except OSError:
            refused_at = sent
        answer = conn.recv(4096).decode("latin-1")
    assert answer.startswith("HTTP/1.1 413"), answer[:300]
    assert "dataset archives from admins only" in answer
    assert refused_at is None or refused_at < 20 * 1024 * 1024
    # Nothing of it reached the portal's disk.
    assert not list((portal.work / "media").rglob("*.zip"))
    log = portal.log("honcho.log")
    assert "request body refused before reading" in log and "/learning/datasets/" in log


def test_a_trickling_body_without_a_length_is_cut_off(portal):
    """Chunked, one byte now and then: the proxy times it out; daphne never sees it."""
    with production.tls(portal.https_port) as conn:
        conn.sendall((f"POST /accounts/login/ HTTP/1.1\r\nHost: localhost:{portal.https_port}\r\n"
                      "Transfer-Encoding: chunked\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n1\r\na\r\n").encode())
        started = time.monotonic()
        conn.settimeout(30)
        try:
            answer = conn.recv(4096)
        except (ConnectionResetError, ssl.SSLError, TimeoutError):
            answer = b""
        waited = time.monotonic() - started
    assert waited < 20, "a body trickling slower than client_body_timeout must be cut off"
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408")


def _slow_login_post(port: int) -> ssl.SSLSocket | None:
    """The attack that took daphne down: a login POST announcing 1 MB, whose body then trickles."""
    try:
        conn = production.tls(port, source="127.0.0.2")
        conn.sendall((f"POST /accounts/login/ HTTP/1.1\r\nHost: localhost:{port}\r\n"
                      "Content-Type: application/x-www-form-urlencoded\r\n"
                      f"Content-Length: {1024 * 1024}\r\n\r\nu").encode())
        return conn
    except OSError:
        return None


def _slow_head(port: int) -> socket.socket | None:
    """The classic slowloris: a connection whose request head never ends."""
    try:
        conn = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=("127.0.0.2", 0))
        return conn  # not even the TLS handshake: it holds a connection all the same
    except OSError:
        return None


def _answer_or_gone(conn: socket.socket) -> bytes:
    try:
        conn.settimeout(0.5)
        return conn.recv(200) or b"<closed>"
    except (TimeoutError, BlockingIOError):
        return b""
    except OSError:
        return b"<closed>"


def _answers_within(conns: list, seconds: float) -> dict[int, bytes]:
    """The first bytes (or b"<closed>") each connection gets within `seconds`."""
    answers: dict[int, bytes] = {}
    deadline = time.monotonic() + seconds
    while len(answers) < len(conns) and time.monotonic() < deadline:
        waiting = [c for i, c in enumerate(conns) if i not in answers]
        readable, _, _ = select.select(waiting, [], [], 0.5)
        for conn in readable:
            answers[conns.index(conn)] = _answer_or_gone(conn)
    return answers


def test_six_hundred_slow_anonymous_clients_do_not_take_the_portal_down(portal):
    """600 slow anonymous connections from one address (400 trickling a 1 MB login POST, 200 never
    finishing their request head): from another address the portal still answers at once, the
    announced bodies are refused unread, and the heads are dropped after the header timeout."""
    slow_posts = [c for c in (_slow_login_post(portal.https_port) for _ in range(400)) if c is not None]
    slow_heads = [c for c in (_slow_head(portal.https_port) for _ in range(200)) if c is not None]
    try:
        assert len(slow_posts) == 400 and len(slow_heads) == 200, "the attack could not even connect"
        times = []
        for _ in range(5):
            started = time.monotonic()
            status, _, _ = production.request(portal.https_port, f"GET /accounts/login/ HTTP/1.1\nHost: localhost:{portal.https_port}\n"
                                    "Connection: close\n", timeout=10)
            times.append(time.monotonic() - started)
            assert status == 200
        assert max(times) < 3, times
        # Each announced body was refused from its declared length (413), or the connection over the
        # address's share refused (429): within seconds, none waited for.
        answers = _answers_within(slow_posts, seconds=10)
        assert len(answers) == len(slow_posts), f"{len(slow_posts) - len(answers)} slow posts still held"
        kinds = {a[:12] for a in answers.values()}
        assert kinds <= {b"HTTP/1.1 413", b"HTTP/1.1 429", b"<closed>"}, kinds
        time.sleep(12)  # past client_header_timeout
        still_held = sum(_answer_or_gone(c) == b"" for c in slow_heads)
        assert still_held == 0, f"{still_held} connections that never sent a request are still held"
    finally:
        for conn in [*slow_posts, *slow_heads]:
            conn.close()


# -- signed-in attacks ----------------------------------------------------------------------------

def _session(portal, username: str, source: str = "127.0.0.1") -> requests.Session:
    """A browser-like session signed in through the login form (HTTPS, CSRF and all)."""
    session = _trusting(portal)
    session.mount("https://", _SourceAdapter(source))
    login = f"{portal.url}/accounts/login/"
    page = session.get(login)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(login, data={"csrfmiddlewaretoken": token, "username": username,
                                       "password": production.PASSWORD}, headers={"Referer": login})
    assert answer.status_code == 200 and "/accounts/login/" not in answer.url, answer.text[:500]
    return session


def _trusting(portal) -> requests.Session:
    """A client that trusts the stack's own certificate (and no CA bundle from the environment)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(portal.work / "nginx" / "fullchain.pem")
    return session


class _SourceAdapter(requests.adapters.HTTPAdapter):
    """Connect from a chosen loopback address (nginx sees each as another client)."""

    def __init__(self, source: str):
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


def _login_attempt(portal, source: str, username: str, password: str, forged: str) -> requests.Response:
    session = _trusting(portal)
    session.mount("https://", _SourceAdapter(source))
    login = f"{portal.url}/accounts/login/"
    page = session.get(login)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if token is None:
        return page
    return session.post(login, data={"csrfmiddlewaretoken": token.group(1), "username": username,
                                     "password": password},
                        headers={"Referer": login, "X-Forwarded-For": forged}, allow_redirects=False)


def test_password_guessing_from_one_address_is_slowed_whatever_it_claims_to_be(portal):
    """Attack 5: many wrong passwords over many usernames from one address, each request claiming
    another X-Forwarded-For. The real address (127.0.0.3) is counted; the operator signs in from
    her own desk all the while."""
    statuses = []
    for n in range(13):
        answer = _login_attempt(portal, "127.0.0.3", f"user{n}", "wrong-password", forged=f"198.51.100.{n}")
        statuses.append(answer.status_code)
    assert statuses[:10] == [200] * 10, statuses  # the form again, with its error
    assert 429 in statuses[10:], statuses
    assert _session(portal, "asha", source="127.0.0.1").get(f"{portal.url}/").status_code == 200


def _ws_handshake(portal, path: str, origin: str, cookie: str) -> str:
    with production.tls(portal.https_port) as conn:
        conn.settimeout(10)
        conn.sendall((f"GET {path} HTTP/1.1\r\nHost: localhost:{portal.https_port}\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      f"Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\nCookie: {cookie}\r\n\r\n").encode())
        answer = conn.recv(4096)
        if answer.startswith(b"HTTP/1.1 101"):
            try:
                answer += conn.recv(4096)  # a close frame, if the server closes at once
            except (TimeoutError, ssl.SSLError, OSError):
                pass
        return answer.decode("latin-1")


def test_websockets_only_from_the_portal_s_own_origin_and_only_on_known_routes(portal):
    session = _session(portal, "asha")
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    own = f"https://localhost:{portal.https_port}"
    assert _ws_handshake(portal, "/ws/queue/", own, cookie).startswith("HTTP/1.1 101")
    for forged in (f"https://localhost:{portal.https_port + 1}", f"http://localhost:{portal.https_port}",
                   "https://evil.example"):
        assert not _ws_handshake(portal, "/ws/queue/", forged, cookie).startswith("HTTP/1.1 101"), forged
    # An unknown route: accepted only to be closed with 4404 (0x0FA4), never a server error.
    unknown = _ws_handshake(portal, "/ws/no-such-route/", own, cookie)
    assert "\x0f\xa4" in unknown or not unknown.startswith("HTTP/1.1 101"), unknown[:200]


def test_a_script_uploaded_as_call_audio_is_served_as_an_attachment_that_cannot_run(portal):
    """Attack 1 through the front door: an intake key pushes an MP3 that is also JavaScript, named
    call.js; the operator's "original" link must not serve it as script from the portal's origin."""
    from tests.security.polyglots import js_polyglot

    issued = portal.manage("api_key_create", "pbx", "--user", "chief", "--json")
    key = json.loads(issued.stdout)["key"]
    created = _trusting(portal).post(f"{portal.url}/api/v1/cases/",
                            headers={"Authorization": f"Api-Key {key}"},
                            data={"caller_number": "+91 98765 43210"},
                            files={"audio": ("call.js", js_polyglot(), "text/javascript")})
    assert created.status_code == 201, created.text[:500]
    recording = created.json()["recordings"][0]["id"]
    original = _session(portal, "asha").get(f"{portal.url}/recordings/{recording}/original/")
    assert original.status_code == 200
    assert original.headers["Content-Type"] == "audio/mpeg"
    assert original.headers["Content-Disposition"].startswith("attachment")
    assert original.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in original.headers["Content-Security-Policy"]


def test_a_tampered_queue_cursor_is_bad_input_not_a_server_error(portal):
    session = _session(portal, "asha")
    junk = base64.urlsafe_b64encode(b"\xff\x00junk{not json").decode()
    answer = session.get(f"{portal.url}/api/v1/cases/", params={"cursor": junk})
    assert answer.status_code == 400
    assert answer.headers["Content-Type"].startswith("application/problem+json")
