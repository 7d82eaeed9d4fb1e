"""Shared fixtures: one user per role, real audio made from the RAVDESS corpus on the fly."""

from __future__ import annotations

import io
import os
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, NamedTuple

import av
import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from core import audio

REPO = Path(__file__).resolve().parent.parent


def pytest_sessionstart(session):
    """Compile numba kernels here, once, before tests start workers and subprocesses that
    would otherwise compile (and write numba's disk cache) at the same time."""
    from core.kernels import compile_kernels

    compile_kernels()


def _fresh_sync_to_async_pool_in_a_forked_child() -> None:
    """The servers the tests fork (tests/daphne_server.py, tests/browser/conftest.py) must not inherit
    asgiref's pool for thread-sensitive sync code with its thread: fork copies the pool but not the
    thread, so once a test ran database_sync_to_async outside async_to_sync (the live worker does), every
    such call in a later-forked server waited forever, and its websockets never opened."""
    from concurrent.futures import ThreadPoolExecutor

    from asgiref.sync import SyncToAsync

    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)


def _no_analysis_inside_numpy_while_forking() -> None:
    """OpenBLAS's own fork handler (blas_thread_shutdown_) waits for the BLAS calls of other threads,
    and a fork made while an in-process analysis job was inside numpy hung for good: the forking thread
    holds the GIL inside fork(), so not even pytest-timeout could end the run (a CI run that ran out of
    time: a Daphne server forked for the next test while a live call's final analysis from the previous
    one was still computing its mel spectrogram). The in-process jobs finish first."""
    import threading

    if threading.current_thread().name.startswith("analysis-"):
        return  # a job forking would wait for itself
    try:
        from analysis import dispatch

        dispatch.wait_for_inprocess(timeout=300)
    except Exception:  # Django not set up yet (no analysis can be running), or a pool already shut down
        return


os.register_at_fork(before=_no_analysis_inside_numpy_while_forking,
                    after_in_child=_fresh_sync_to_async_pool_in_a_forked_child)

RAVDESS_DIR = Path(os.environ.get("RAVDESS_DIR", REPO.parent / "shared" / "data" / "ravdess"))
SPEECH_SAMPLES_DIR = Path(os.environ.get("SPEECH_SAMPLES_DIR", REPO.parent / "shared" / "data" / "speech-samples"))
EMODB_DIR = Path(os.environ.get("EMODB_DIR", REPO.parent / "shared" / "data" / "emodb"))
# A fearful, strong-intensity clip by a female actor: "Dogs are sitting by the door".
RAVDESS_CLIP = "Actor_02/03-01-06-02-02-01-02.flac"

# Container, codec, file suffix for each upload format the portal accepts.
FORMATS = {
    "wav": ("wav", "pcm_s16le", ".wav"),
    "mp3": ("mp3", "libmp3lame", ".mp3"),
    "ogg": ("ogg", "vorbis", ".ogg"),
    "webm": ("webm", "libopus", ".webm"),
    "flac": ("flac", "flac", ".flac"),
    "m4a": ("ipod", "aac", ".m4a"),
}


# Corpus-based tests skip with a reason when a corpus is missing (a fresh clone without ../shared),
# except under REQUIRE_CORPORA=1 (.ci/run sets it), where a missing corpus fails them: CI must not
# pass by skipping. Where the corpora come from: docs/development.md, "Test data".
REQUIRE_CORPORA = os.environ.get("REQUIRE_CORPORA") == "1"


def _corpus(folder: Path, marker: str, name: str, variable: str) -> Path:
    if not (folder / marker).exists():
        reason = f"{name} not found at {folder}; set {variable} (see docs/development.md, 'Test data')."
        if REQUIRE_CORPORA:
            pytest.fail(f"{reason} REQUIRE_CORPORA=1 forbids skipping it.")
        pytest.skip(reason)
    return folder


@pytest.fixture(scope="session")
def ravdess_dir() -> Path:
    return _corpus(RAVDESS_DIR, "metadata.csv", "RAVDESS corpus", "RAVDESS_DIR")


@pytest.fixture(scope="session")
def emodb_dir() -> Path:
    return _corpus(EMODB_DIR, "metadata.csv", "EmoDB corpus", "EMODB_DIR")


@pytest.fixture(scope="session")
def speech_samples_dir() -> Path:
    return _corpus(SPEECH_SAMPLES_DIR, "en_fire.wav", "Speech samples", "SPEECH_SAMPLES_DIR")


@pytest.fixture(scope="session")
def speech_clip(ravdess_dir) -> np.ndarray:
    """Real speech (a RAVDESS clip): for tests that judge what is said or how it sounds."""
    return audio.load(ravdess_dir / RAVDESS_CLIP)


def voice_like_clip(seconds: float = 3.5, f0: float = 180.0) -> np.ndarray:
    """A generated stand-in for a voice: harmonics on a gliding pitch, in syllable-long bursts.
    Enough for tests of intake, storage and permissions; it says nothing and feels nothing."""
    rng = np.random.default_rng(7)
    t = np.arange(int(16_000 * seconds)) / 16_000
    pitch = f0 * (1 + 0.08 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / 16_000
    voice = sum(np.sin(k * phase) / k for k in range(1, 8))
    syllables = np.clip(np.sin(2 * np.pi * 2.5 * t), 0, None) ** 0.5
    clip = 0.2 * voice * syllables + 0.005 * rng.standard_normal(t.size)
    return (clip / np.max(np.abs(clip)) * 0.5).astype(np.float32)


@pytest.fixture(scope="session")
def call_clip() -> np.ndarray:
    """Some call audio: the RAVDESS clip when the corpus is here, else a generated one (tests that
    need real speech ask for ``speech_clip`` instead)."""
    if (RAVDESS_DIR / RAVDESS_CLIP).exists():
        return audio.load(RAVDESS_DIR / RAVDESS_CLIP)
    if REQUIRE_CORPORA:
        pytest.fail(f"RAVDESS corpus not found at {RAVDESS_DIR}; REQUIRE_CORPORA=1 forbids a stand-in.")
    return voice_like_clip()


def encode(samples: np.ndarray, fmt: str, *, sample_rate: int = 16_000, channels: int = 1) -> bytes:
    """Encode float32 mono samples into one of FORMATS with PyAV (FFmpeg's encoders)."""
    container_name, codec, _ = FORMATS[fmt]
    rate = 48_000 if codec == "libopus" else sample_rate
    if rate != sample_rate:
        samples = _resample(samples, sample_rate, rate)
    if codec == "vorbis":
        channels = 2  # FFmpeg's own Vorbis encoder only writes stereo
    layout = "mono" if channels == 1 else "stereo"
    data = np.tile(samples, (channels, 1)) if channels > 1 else samples[None, :]
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container_name) as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        stream.codec_context.options = {"strict": "experimental"}
        frame_format = stream.codec_context.format.name if stream.codec_context.format else "s16"
        frame = av.AudioFrame.from_ndarray(data.astype(np.float32), format="fltp", layout=layout)
        frame.sample_rate = rate
        resampler = av.AudioResampler(format=frame_format, layout=layout, rate=rate)
        for converted in resampler.resample(frame):
            for packet in stream.encode(converted):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def _resample(samples: np.ndarray, source: int, target: int) -> np.ndarray:
    positions = np.linspace(0, len(samples) - 1, int(len(samples) * target / source))
    return np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)


@pytest.fixture
def upload(call_clip):
    """upload(fmt="wav") -> a SimpleUploadedFile of the call clip (``call_clip``) in that format."""

    def make(fmt: str = "wav", **kwargs) -> SimpleUploadedFile:
        suffix = FORMATS[fmt][2]
        return SimpleUploadedFile(f"call{suffix}", encode(call_clip, fmt, **kwargs))

    return make


@pytest.fixture
def make_user(django_user_model):
    def make(role: str = "operator", username: str | None = None):
        return django_user_model.objects.create_user(
            username=username or f"{role}-{django_user_model.objects.count() + 1}",
            password="correct horse battery staple",
            role=role,
        )

    return make


@pytest.fixture
def operator(make_user):
    return make_user("operator", "olivia")


@pytest.fixture
def operator2(make_user):
    return make_user("operator", "omar")


@pytest.fixture
def supervisor(make_user):
    return make_user("supervisor", "sunita")


@pytest.fixture
def admin_user(make_user):
    return make_user("admin", "arjun")


@pytest.fixture
def users(operator, supervisor, admin_user):
    return {"operator": operator, "supervisor": supervisor, "admin": admin_user}


@pytest.fixture
def case_factory(operator):
    from calls.services import case_create

    def make(**kwargs):
        kwargs.setdefault("created_by", operator)
        kwargs.setdefault("caller_number", "+91 98765 43210")
        return case_create(**kwargs).case

    return make


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    """Each test writes its recordings to a folder of its own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# -- a test client that meets CSRF as a browser does ------------------------------------------


class PageForm(NamedTuple):
    action: str
    token: str


class _Forms(HTMLParser):
    """The POST forms of a page: (action, CSRF token). Nested <form> tags are ignored, as browsers do."""

    def __init__(self, page: str):
        super().__init__()
        self.page = page
        self.forms: list[PageForm] = []
        self._open: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and self._open is None and a.get("method", "get").lower() == "post":
            self._open = {"action": a.get("action") or self.page, "token": ""}
        elif tag == "input" and self._open is not None and a.get("name") == "csrfmiddlewaretoken":
            self._open["token"] = self._open["token"] or a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._open is not None:
            self.forms.append(PageForm(self._open["action"], self._open["token"]))
            self._open = None


class BrowserClient(Client):
    """Enforces CSRF: a form is posted from the page that shows it, with the token that page gave
    (``submit``), so a test also proves the form is on the page for that user."""

    def __init__(self, **defaults: Any):
        super().__init__(enforce_csrf_checks=True, **defaults)

    def form_on(self, page: str, action: str | None = None) -> PageForm:
        response = self.get(page)
        assert response.status_code == 200, f"{page} answered {response.status_code}"
        parser = _Forms(page)
        parser.feed(response.content.decode())
        wanted = action or page
        found = [f for f in parser.forms if f.action == wanted]
        assert found, f"no POST form to {wanted} on {page}; forms there: {[f.action for f in parser.forms]}"
        assert found[0].token, f"the form to {wanted} on {page} has no CSRF token"
        return found[0]

    def post_form(self, form: PageForm, data: dict[str, Any] | None = None, **extra: Any) -> Any:
        return self.post(form.action, {**(data or {}), "csrfmiddlewaretoken": form.token}, **extra)

    def submit(self, page: str, action: str | None = None, data: dict[str, Any] | None = None, **extra: Any) -> Any:
        """GET `page`, then POST `data` through its form to `action` (default: the page itself)."""
        return self.post_form(self.form_on(page, action), data, **extra)

    def csrf_token(self, page: str) -> str:
        """The token any form of `page` carries (to post somewhere the page has no form for)."""
        response = self.get(page)
        parser = _Forms(page)
        parser.feed(response.content.decode())
        tokens = [f.token for f in parser.forms if f.token]
        assert tokens, f"{page} carries no CSRF token"
        return tokens[0]


@pytest.fixture
def client() -> BrowserClient:
    return BrowserClient()


# -- one headless Chromium for the whole run (Playwright's sync API allows one per thread) --------

CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/lib/chromium/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    # A synthetic microphone, allowed without a prompt.
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="session")
def browser():
    """Shared by tests/browser and tests/production: a second sync Playwright in one run fails."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()
