"""Settings, all from the environment (django-environ), with safe embedded defaults.

Embedded default (no env): SQLite, in-memory channel layer, analysis in-process threads.
Production / CI: DATABASE_URL=mysql://..., REDIS_URL=redis://..., CELERY_BROKER_URL=redis://...
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from core.emotion import SHIPPED_EMOTION_MODEL

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(str(BASE_DIR / ".env"))

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-debug-mode"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Demo mode prints generated demo passwords once; never on in production.
DEMO_MODE = env.bool("DEMO_MODE", default=False)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "crispy_forms",
    "crispy_bootstrap5",
    "channels",
    "accounts",
    "calls",
    "analysis",
    "audits",
    "learning",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Deny by default: a page that forgets its own role check still needs a login. The API and
    # the login page opt out (accounts.permissions.ApiAuthentication, Django's LoginView).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "emergency_portal.urls"
ASGI_APPLICATION = "emergency_portal.asgi.application"
WSGI_APPLICATION = "emergency_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"charset": "utf8mb4", "init_command": "SET sql_mode='STRICT_TRANS_TABLES'"}
    )
    DATABASES["default"]["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded run writes from the web thread and two analysis threads at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "calls:case_list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Kolkata")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}

# Audio intake limits.
MAX_UPLOAD_MB = env.int("MAX_UPLOAD_MB", default=50)
MAX_AUDIO_SECONDS = env.float("MAX_AUDIO_SECONDS", default=600.0)
# Dataset imports: the largest archive accepted, and the server folders an admin may import from
# (nothing outside them can be named).
DATASET_MAX_UPLOAD_MB = env.int("DATASET_MAX_UPLOAD_MB", default=2048)
DATASET_IMPORT_ROOTS = [Path(p) for p in env.list(
    "DATASET_IMPORT_ROOTS", default=[str(BASE_DIR.parent / "shared" / "data"), str(MEDIA_ROOT / "datasets" / "incoming")]
)]
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Machine-learning artefacts.
ML_MODELS_DIR = Path(env.str("ML_MODELS_DIR", default=str(BASE_DIR / "ml_models")))
EMOTION_MODEL_DIR = Path(
    env.str("EMOTION_MODEL_DIR", default=str(ML_MODELS_DIR / SHIPPED_EMOTION_MODEL))
)
SPEECH_MODELS_DIR = Path(
    env.str("SPEECH_MODELS_DIR", default=str(BASE_DIR / "var" / "speech-models"))
)
EXTRA_LEXICON_DIR = env.str("EXTRA_LEXICON_DIR", default="") or None

# Supervisors' audits: the share of all closed calls picked at random (APCO/NENA: at least 2 %),
# the share of picked calls reviewed twice (blind), the emotion top-two margin below which a
# prediction counts as uncertain, and the salt of the random draw (not guessable from outside).
AUDIT_RANDOM_SHARE = env.float("AUDIT_RANDOM_SHARE", default=0.02)
AUDIT_SECOND_SHARE = env.float("AUDIT_SECOND_SHARE", default=0.10)
AUDIT_UNCERTAIN_MARGIN = env.float("AUDIT_UNCERTAIN_MARGIN", default=0.2)
AUDIT_SALT = env.str("AUDIT_SALT", default="") or f"audit:{SECRET_KEY}"

# Background work: Celery when a broker is configured, in-process threads otherwise.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# With Redis, a task whose worker died unacknowledged is redelivered after this many seconds.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=900)}
CELERY_TASK_ROUTES = {
    "analysis.analyse_emotion": {"queue": "emotion"},
    "analysis.analyse_words": {"queue": "words"},
    "analysis.rescore_open_cases": {"queue": "emotion"},  # short work, like the acoustic step
    "learning.import_dataset": {"queue": "words"},  # long work, like a transcription
    "learning.train_model": {"queue": "words"},
    "learning.evaluate_models": {"queue": "words"},
}
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
ANALYSIS_BACKEND = "celery" if CELERY_BROKER_URL else "inprocess"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": env.str("CHANNELS_PREFIX", default="asgi")},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.IsOperator"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "112 Emergency call triage API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["accounts.permissions.IsOperator"],
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Security: strict by default, relaxed only for DEBUG / local http.
WHITENOISE_USE_FINDERS = DEBUG

SECURE_SSL = env.bool("SECURE_SSL", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_SSL
CSRF_COOKIE_SECURE = SECURE_SSL
SECURE_SSL_REDIRECT = SECURE_SSL
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if SECURE_SSL else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_SSL
SECURE_HSTS_PRELOAD = SECURE_SSL
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "calls": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
        "analysis": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    },
}
