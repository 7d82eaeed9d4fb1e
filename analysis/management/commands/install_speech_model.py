"""`manage.py install_speech_model NAME`: download, check and unpack an official Vosk model."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import CommandError

from accounts.management.base import PortalCommand
from core.speech.vosk_models import (
    KNOWN_MODELS,
    ModelError,
    ModelInstallError,
    check_model_dir,
    find_models,
    install_model,
)


class Command(PortalCommand):
    help = ("Download an official Vosk model archive into SPEECH_MODELS_DIR, check it and "
            "unpack it safely. Known models: " + ", ".join(KNOWN_MODELS))
    needs_migrated_database = False  # it reads no table of the portal

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help="model name, e.g. vosk-model-small-en-in-0.4")
        parser.add_argument("--models-dir", default=None)
        parser.add_argument("--url", default=None, help="archive URL (default: official site)")
        parser.add_argument("--base-url", default=None, help="mirror of the official models folder")
        parser.add_argument("--sha256", default=None, help="expected sha256 of the archive")
        parser.add_argument("--force", action="store_true", help="replace an installed model")
        parser.add_argument("--list", action="store_true", help="list installed models and exit")
        parser.add_argument("--check", metavar="DIR", help="check an unpacked model folder")

    def handle(self, *args, **opts):
        models_dir = opts["models_dir"] or settings.SPEECH_MODELS_DIR
        if opts["check"]:
            try:
                check_model_dir(opts["check"])
            except ModelError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"{opts['check']}: looks like a usable Vosk model")
            return
        if opts["list"]:
            models = find_models(models_dir)
            if not models:
                self.stdout.write(f"no usable Vosk model in {models_dir}")
            for m in models:
                self.stdout.write(f"{m.language}\t{m.name}\t{m.path}")
            return
        if not opts["name"]:
            raise CommandError("give a model NAME (or --list / --check DIR)")
        try:
            path = install_model(opts["name"], models_dir, base_url=opts["base_url"],
                                 url=opts["url"], sha256=opts["sha256"], force=opts["force"])
        except (ModelInstallError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"installed {opts['name']} in {path}"))
