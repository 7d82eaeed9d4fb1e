"""``python manage.py train_emotion_model --dataset DIR --out ml_models/<version>``.

A thin wrapper over :func:`core.emotion.training.train_emotion_model`.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.emotion.datasets import DatasetError, default_ravdess_dir


class Command(BaseCommand):
    help = "Train a speech emotion model version, split by speaker, and write it to --out."

    def add_arguments(self, parser):
        parser.add_argument("--dataset", help="dataset folder (RAVDESS or 112 file names); "
                            "default: $RAVDESS_DIR or ../shared/data/ravdess")
        parser.add_argument("--out", required=True, help="output folder, e.g. ml_models/<version>")
        parser.add_argument("--epochs", type=int, default=None)
        parser.add_argument("--batch-size", type=int, default=None)
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument("--augment", type=int, default=None,
                            help="random augmented copies per training clip")
        parser.add_argument("--test-speakers", default=None,
                            help="comma-separated test speakers (default: the fixed split)")
        parser.add_argument("--val-speakers", default=None,
                            help="comma-separated validation speakers")
        parser.add_argument("--cache-dir", default=None, help="feature cache folder")
        parser.add_argument("--gender-pitch", action="store_true",
                            help="experimental: pitch-shift male voices up and female voices down "
                                 "in training (did not narrow the gender gap under 6-fold CV)")
        parser.add_argument("--ensemble", type=int, default=None,
                            help="number of CNNs (seeds seed, seed+1, ...) whose probabilities "
                                 "the saved model averages")
        parser.add_argument("--vtln", type=float, default=None, metavar="STRENGTH",
                            help="experimental: vocal-tract-length normalisation of the features "
                                 "(0..1, e.g. 0.3), the warp kept as one more column (did not "
                                 "narrow the gender gap under 6-fold CV)")
        parser.add_argument("--overwrite", action="store_true")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **opts):
        from core.audio import AudioError
        from core.emotion.features import DEFAULT_CONFIG, FeatureConfig
        from core.emotion.training import TrainConfig, train_emotion_model

        dataset = opts["dataset"] or default_ravdess_dir()
        if dataset is None:
            raise CommandError("No --dataset given and no RAVDESS folder found.")
        tc = TrainConfig()
        for opt, attr in (("epochs", "epochs"), ("batch_size", "batch_size"), ("seed", "seed"),
                          ("augment", "n_augment"), ("ensemble", "ensemble")):
            if opts[opt] is not None:
                setattr(tc, attr, opts[opt])
        tc.gender_pitch = opts["gender_pitch"]
        feature_config = DEFAULT_CONFIG
        if opts["vtln"]:
            try:
                feature_config = FeatureConfig(vtln_strength=opts["vtln"], vtln_warp_column=True)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc

        def split(value):
            return [s.strip() for s in value.split(",") if s.strip()] if value else None

        try:
            meta = train_emotion_model(
                dataset,
                opts["out"],
                train_config=tc,
                feature_config=feature_config,
                test_speakers=split(opts["test_speakers"]),
                val_speakers=split(opts["val_speakers"]),
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
