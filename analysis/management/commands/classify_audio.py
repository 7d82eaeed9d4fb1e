"""``python manage.py classify_audio FILE [FILE ...] [--json]``: emotion of audio files.

Loads the model once, then decodes and classifies each file through the same path the pipeline
uses (a corrupt file gives a per-file error and a non-zero exit status; the others are still
classified). The milliseconds shown are the classification alone; decoding is reported apart. A
version that adapts to its deployment reads each file against the deployment's baseline of calls
(the active version; with --model-dir, the training data's statistics), and learns nothing from it.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import CommandError, CommandParser

from accounts.management.base import PortalCommand


class Command(PortalCommand):
    help = "Classify the speech emotion of audio files with the active emotion model."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--json", action="store_true", help="one JSON list on stdout")
        parser.add_argument("--model-dir", default=None, help="model version folder (default: the active one)")
        parser.add_argument("--max-seconds", type=float, default=600.0,
                            help="refuse files longer than this (default 600)")

    def database_needed(self, options: dict[str, Any]) -> bool:
        return not options.get("model_dir")  # the active version is looked up in the database

    def handle(self, *args: Any, **opts: Any) -> None:
        from analysis.baselines import voice_baseline
        from analysis.selectors import emotion_model_active
        from core.audio import AudioError, decode
        from core.emotion.classifier import load_classifier
        from core.emotion.encoder_classifier import EncoderClassifier
        from core.emotion.features import FeatureError
        from core.emotion.model_version import ModelError

        model_dir = opts["model_dir"] or emotion_model_active().path
        try:
            classifier = load_classifier(model_dir)
        except ModelError as exc:
            raise CommandError(str(exc)) from exc
        adapts = isinstance(classifier, EncoderClassifier) and classifier.adapts
        baseline = voice_baseline(classifier.version) if adapts and not opts["model_dir"] else None
        results: list[dict[str, Any]] = []
        for path in opts["files"]:
            started = time.perf_counter()
            try:
                samples = decode(path, max_seconds=opts["max_seconds"]).samples
                decoded = time.perf_counter()
                prediction = (classifier.classify(samples, baseline=baseline)
                              if isinstance(classifier, EncoderClassifier) else classifier.classify(samples))
            except (AudioError, FeatureError, OSError) as exc:
                results.append({"file": path, "error": str(exc)})
                continue
            results.append({"file": path, "label": prediction.label, "probabilities": prediction.probabilities,
                            "model_version": prediction.model_version, "unfamiliar": prediction.unfamiliar,
                            "baseline_calls": prediction.baseline_calls,
                            "seconds": round(prediction.seconds, 4),
                            "decode_seconds": round(decoded - started, 4)})
        self._print(results, as_json=opts["json"])
        if any("error" in r for r in results):
            raise SystemExit(1)

    def _print(self, results: list[dict[str, Any]], *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(results, indent=1))
            return
        for r in results:
            if "error" in r:
                self.stdout.write(self.style.ERROR(f"{r['file']}: ERROR {r['error']}"))
                continue
            probs = "  ".join(f"{k}={v:.3f}" for k, v in sorted(r["probabilities"].items(), key=lambda kv: -kv[1]))
            self.stdout.write(f"{r['file']}: {r['label']}  ({probs})  model={r['model_version']}  "
                              f"{r['seconds'] * 1000:.0f} ms (+{r['decode_seconds'] * 1000:.0f} ms decoding)")
