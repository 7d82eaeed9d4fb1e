"""Live ingress fixtures: an intake client's key, spoken audio (espeak-ng) as phone PCM, and the real
ASGI application driven in-process (origin checks, routing, the consumer)."""

from __future__ import annotations

import os
import subprocess
import uuid
import wave
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings as django_settings

from accounts.api_keys import api_key_issue, integration_client_create
from core import audio
from live.clients import pcm_of

PHRASE = "Help me please. There is a fire in my house and my father cannot breathe. Send an ambulance."


@pytest.fixture(autouse=True)
def keep_test_connection(monkeypatch):
    """database_sync_to_async closes "old" connections; in a test that is the test's own transaction."""
    monkeypatch.setattr("channels.db.close_old_connections", lambda: None)


@pytest.fixture(autouse=True)
def own_channel_layer(settings):
    """Other test runs may share the Redis server: keep this run's groups apart."""
    layers = {name: dict(config) for name, config in django_settings.CHANNEL_LAYERS.items()}
    default = layers["default"]
    if "RedisChannelLayer" in default["BACKEND"]:
        default["CONFIG"] = dict(default["CONFIG"], prefix=f"test-live-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    settings.CHANNEL_LAYERS = layers


@pytest.fixture
def intake(admin_user):
    """(the client's intake user, its API key)."""
    client = integration_client_create(admin=admin_user, name="pbx-lucknow")
    _, secret = api_key_issue(admin=admin_user, client=client, name="primary")
    return client.user, secret


@pytest.fixture(scope="session")
def spoken(tmp_path_factory) -> Path:
    """A caller's words, spoken by espeak-ng (a real voice signal, not a tone)."""
    path = tmp_path_factory.mktemp("speech") / "call.wav"
    subprocess.run(["espeak-ng", "-v", "en", "-s", "150", "-w", str(path), PHRASE], check=True)
    return path


@pytest.fixture(scope="session")
def pcm_8k(spoken) -> bytes:
    """The call as 8 kHz 16-bit PCM, as a phone line carries it."""
    return pcm_of(audio.load(spoken, sample_rate=8000))


@pytest.fixture(scope="session")
def pcm_16k(spoken) -> bytes:
    return pcm_of(audio.load(spoken, sample_rate=16000))


def recording_pcm(recording) -> tuple[bytes, int]:
    """The samples of a recording's original file, as stored: (16-bit PCM, rate)."""
    with recording.original.open("rb") as handle, wave.open(handle) as wav:
        return wav.readframes(wav.getnframes()), wav.getframerate()


def samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2")
