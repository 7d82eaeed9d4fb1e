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

# A test left waiting on a lock fails within minutes instead of MariaDB's default year-long wait for a table's
# metadata lock (a flush between tests waits on any connection still inside a transaction).
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":  # noqa: F405
    _options = DATABASES["default"].setdefault("OPTIONS", {})  # noqa: F405
    _options["init_command"] = (
        _options.get("init_command", "SET sql_mode='STRICT_TRANS_TABLES'")
        + ", lock_wait_timeout=180, innodb_lock_wait_timeout=120"
    )
