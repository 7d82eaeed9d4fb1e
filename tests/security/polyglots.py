"""Files that are a real MP3 call *and* a script or a web page: what the stored-XSS attack uploaded.

FFmpeg's MP3 demuxer skips junk before the first frame and leaves out an ID3v1 tag (the last 128
bytes, starting with "TAG"), so both ends of a file are free for text:

    <payload>/*  ...MP3 frames...  TAG*/<spaces>       JavaScript: the audio is one long comment
    <!DOCTYPE html><meta refresh><!--  ...MP3...  TAG-->   HTML: the audio is one long comment

(a trailer that is not an ID3v1 tag fails to decode: the project refuses any decoding error).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import encode, voice_like_clip

# The script's visible effect. The real one claimed and closed the top open call as a prank.
JS_PAYLOAD = "window.__pwned = (window.__pwned || 0) + 1; document.documentElement.dataset.pwned = 'yes';"
# Where the script-free page sends the browser (".invalid" never resolves; tests intercept it).
ATTACKER_URL = "http://attacker.invalid/phish"


def _id3v1(text: bytes) -> bytes:
    return (b"TAG" + text).ljust(128, b" ")


def call_mp3(seconds: float = 2.0) -> bytes:
    """A real MP3 of a voice-like sound, free of the comment terminators the polyglots rely on."""
    mp3 = encode(voice_like_clip(seconds), "mp3")
    assert b"*/" not in mp3 and b"-->" not in mp3, "pick another clip: this one closes the comment early"
    return mp3


def js_polyglot(mp3: bytes | None = None) -> bytes:
    return f"{JS_PAYLOAD}/*".encode() + (mp3 or call_mp3()) + _id3v1(b"*/")


def html_polyglot(mp3: bytes | None = None, target: str = ATTACKER_URL) -> bytes:
    """No script at all (the portal's CSP would stop an inline one): a meta refresh away."""
    head = f'<!DOCTYPE html><meta http-equiv="refresh" content="0;url={target}"><title>call</title><!--'
    return head.encode() + (mp3 or call_mp3()) + _id3v1(b"-->")


def polyglot(kind: str) -> bytes:
    return {"js": js_polyglot, "html": html_polyglot}[kind]()


def store_as_before_the_fix(recording: Any, extension: str) -> None:
    """Move a recording's original to where the code before the fix put it: under the client's
    extension (``original-<hash>.js``), as the originals stored before the fix still are."""
    from calls.models import Recording

    storage = recording.original.storage
    old = recording.original.name
    with recording.original.open("rb") as handle:
        new = storage.save(str(Path(old).with_suffix(extension)), handle)
    if new != old:
        storage.delete(old)
    Recording.objects.filter(pk=recording.pk).update(original=new)
    recording.refresh_from_db()
    assert recording.original.name.endswith(extension), recording.original.name
