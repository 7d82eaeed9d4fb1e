"""Settings for the test suite: the real settings, with test-only defaults for what they require."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("SECURE_SSL", "0")
os.environ.setdefault("STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage")
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="triage-test-media-"))
os.environ.setdefault("STATIC_ROOT", tempfile.mkdtemp(prefix="triage-test-static-"))

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
