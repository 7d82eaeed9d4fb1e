"""`manage.py transcribe FILE [...]`: transcribe audio files offline and print the text.

Same error contract as classify_audio: each file is processed on its own; a file that fails
prints its error (or a {"file", "error"} entry with --json), the rest are still processed, and
the command exits with status 1 when any file failed.
"""

from __future__ import annotations

import json

from django.conf import settings

from accounts.management.base import PortalCommand
from core.audio import AudioError, decode
from core.speech.errors import TranscriptionError, TranscriptionUnavailable
from core.speech.transcribe import ENGINES, transcribe
from core.speech.vosk_models import LANGUAGES

MAX_SECONDS = 2 * 60 * 60


class Command(PortalCommand):
    help = "Transcribe audio files offline (Whisper tiny.en for English, Vosk models, PocketSphinx as the fallback)."
    needs_migrated_database = False  # it reads no table of the portal

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--language", default="en", choices=LANGUAGES)
        parser.add_argument("--engine", choices=ENGINES, default=None,
                            help="force an engine (default: the best installed one)")
        parser.add_argument("--json", action="store_true", help="print one JSON list")
        parser.add_argument("--max-seconds", type=float, default=MAX_SECONDS,
                            help="refuse longer recordings (default: two hours)")
        parser.add_argument("--models-dir", default=None,
                            help="Vosk models folder (default: settings.SPEECH_MODELS_DIR)")

    def handle(self, *args, **opts):
        models_dir = opts["models_dir"] or getattr(settings, "SPEECH_MODELS_DIR", None)
        results = []
        failed = 0
        for path in opts["files"]:
            try:
                audio = decode(path, max_seconds=opts["max_seconds"])
                t = transcribe(audio.samples, audio.sample_rate, language=opts["language"],
                               models_dir=models_dir, engine=opts["engine"])
            except (AudioError, TranscriptionUnavailable, TranscriptionError, OSError) as exc:
                failed += 1
                results.append({"file": path, "error": str(exc)})
                if not opts["json"]:
                    self.stdout.write(self.style.ERROR(f"{path}: ERROR {exc}"))
                continue
            entry = {
                "file": path,
                "text": t.text,
                "words": [w.to_dict() for w in t.words],
                "engine": t.engine,
                "model": t.model,
                "model_checksum": t.model_checksum,
                "fallback": t.fallback,
                "seconds": t.seconds,
            }
            results.append(entry)
            if not opts["json"]:
                self.stdout.write(
                    f"{path}: [{t.engine} {t.model}, {t.audio_seconds:.1f} s audio in "
                    f"{t.seconds:.2f} s, RTF {t.real_time_factor:.2f}] {t.text}"
                )
        if opts["json"]:
            self.stdout.write(json.dumps(results, ensure_ascii=False, indent=2))
        if failed:
            raise SystemExit(1)
