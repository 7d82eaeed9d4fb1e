"""``python manage.py classify_audio FILE [FILE ...] [--json]``: emotion of audio files.

Loads the model once, decodes every file (a corrupt one gives a per-file error and a non-zero
exit status; the others are still classified), and runs the model in batches.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

if TYPE_CHECKING:
    import numpy as np

BATCH_FILES = 64


class Command(BaseCommand):
    help = "Classify the speech emotion of audio files with the active emotion model."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--json", action="store_true", help="one JSON list on stdout")
        parser.add_argument("--model-dir", default=None,
                            help="model version folder (default: settings.EMOTION_MODEL_DIR)")
        parser.add_argument("--max-seconds", type=float, default=600.0,
                            help="refuse files longer than this (default 600)")

    def handle(self, *args, **opts):
        from core.audio import AudioError, decode
        from core.emotion.classifier import ModelError, load_classifier
        from core.emotion.features import FeatureError

        model_dir = opts["model_dir"] or getattr(settings, "EMOTION_MODEL_DIR", None)
        if not model_dir:
            raise CommandError("No emotion model folder: set EMOTION_MODEL_DIR or --model-dir.")
        try:
            classifier = load_classifier(model_dir)
        except ModelError as exc:
            raise CommandError(str(exc)) from exc

        results: list[dict] = []
        pending: list[tuple[int, np.ndarray, float]] = []  # (result index, windows, seconds)
        failed = 0

        def flush():
            if not pending:
                return
            preds = classifier.classify_windows([w for _, w, _ in pending],
                                                [s for _, _, s in pending])
            for (idx, _, _), pred in zip(pending, preds, strict=True):
                results[idx].update(
                    label=pred.label,
                    probabilities=pred.probabilities,
                    model_version=pred.model_version,
                    seconds=round(pred.seconds, 4),
                )
            pending.clear()

        for path in opts["files"]:
            results.append({"file": path})
            start = time.perf_counter()
            try:
                samples = decode(path, max_seconds=opts["max_seconds"]).samples
                windows = classifier.windows(samples)
            except (AudioError, FeatureError, OSError) as exc:
                results[-1]["error"] = str(exc)
                failed += 1
                continue
            pending.append((len(results) - 1, windows, time.perf_counter() - start))
            if len(pending) >= BATCH_FILES:
                flush()
        flush()

        if opts["json"]:
            self.stdout.write(json.dumps(results, indent=1))
        else:
            for r in results:
                if "error" in r:
                    self.stdout.write(self.style.ERROR(f"{r['file']}: ERROR {r['error']}"))
                    continue
                probs = "  ".join(f"{k}={v:.3f}" for k, v in
                                  sorted(r["probabilities"].items(), key=lambda kv: -kv[1]))
                self.stdout.write(f"{r['file']}: {r['label']}  ({probs})  "
                                  f"model={r['model_version']}  {r['seconds'] * 1000:.0f} ms")
        if failed:
            raise SystemExit(1)
