"""Settings, all from the environment (django-environ), with safe embedded defaults.

Embedded default (no env): SQLite, in-memory channel layer, analysis in-process threads.
Production / CI: DATABASE_URL=mysql://..., REDIS_URL=redis://..., CELERY_BROKER_URL=redis://...
"""

from datetime import timedelta
from pathlib import Path

import csp.constants as csp
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
    "drf_spectacular_sidecar",  # Swagger UI and Redoc assets, served locally
    "rest_framework_api_key",  # its abstract key model (ours: accounts.ClientAPIKey); its own is unused
    "crispy_forms",
    "crispy_bootstrap5",
    "channels",
    "csp",  # Content-Security-Policy header (CONTENT_SECURITY_POLICY below)
    "axes",  # login lockout after repeated failures (AXES_* below)
    "accounts",
    "calls",
    "analysis",
    "audits",
    "live",  # calls while they happen: the media-stream and AudioSocket ingress
    "learning",
    "backups",  # manage.py backup / restore (no models)
]

MIDDLEWARE = [
    # First: a body over the upload limit is refused from its Content-Length, before anything reads it.
    "emergency_portal.middleware.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Django's, except that a page's background refresh does not count as activity (idle expiry below).
    "emergency_portal.middleware.IdleSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A background refresh whose session ended gets 401 (the page then reloads to the login).
    "emergency_portal.middleware.SessionEndedMiddleware",
    # Deny by default: a page that forgets its own role check still needs a login. The API and
    # the login page opt out (accounts.permissions.ApiAuthentication, Django's LoginView).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login attempt into its lockout answer.
    "axes.middleware.AxesMiddleware",
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
# django-axes first: it refuses a locked-out username/address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
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

# Audio intake limits. Shorter than MIN_AUDIO_SECONDS, a clip says nothing about the caller's
# voice (a 0.1 s clip once came out as "sad 0.40"): it is refused, and the case keeps its safe
# priority. A call's time may lie ahead of the server clock by CALL_TIME_MAX_SKEW_S at most
# (telephony clocks drift); a later time would sort the call below older ones until then.
MAX_UPLOAD_MB = env.int("MAX_UPLOAD_MB", default=50)
MAX_AUDIO_SECONDS = env.float("MAX_AUDIO_SECONDS", default=600.0)
MIN_AUDIO_SECONDS = env.float("MIN_AUDIO_SECONDS", default=0.5)
CALL_TIME_MAX_SKEW_S = env.int("CALL_TIME_MAX_SKEW_S", default=300)
# ...and lie at most this far back: a live queue has no place for a call days old.
CALL_TIME_MAX_AGE_DAYS = env.int("CALL_TIME_MAX_AGE_DAYS", default=7)
# Rows per page of the queue page: each rendered row costs ~0.3 ms on every live refresh, so the
# page shows the top of the queue and pages the rest (benchmarks/queue_perf.py).
QUEUE_PAGE_SIZE = env.int("QUEUE_PAGE_SIZE", default=50)
# Dataset imports: the largest archive accepted, and the server folders an admin may import from
# (nothing outside them can be named).
DATASET_MAX_UPLOAD_MB = env.int("DATASET_MAX_UPLOAD_MB", default=2048)
DATASET_IMPORT_ROOTS = [Path(p) for p in env.list(
    "DATASET_IMPORT_ROOTS", default=[str(BASE_DIR.parent / "shared" / "data"), str(MEDIA_ROOT / "datasets" / "incoming")]
)]
# Where `manage.py backup` writes its archives when not told (docs/deployment.md, "Backup and restore").
BACKUP_DIR = Path(env.str("BACKUP_DIR", default=str(BASE_DIR / "var" / "backups")))
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
# The words model (core/text/words_model.py) beside the lexicon; "" turns it off.
WORDS_MODEL_DIR = env.str("WORDS_MODEL_DIR", default=str(BASE_DIR / "ml_models" / "words-v2"))
# What a words training run learns from beside the audited calls (tuning.jsonl) and is judged on
# (heldout.jsonl): the call benchmark's parts (benchmarks/train_words_model.py --export-data).
WORDS_TRAINING_DATA_DIR = env.str("WORDS_TRAINING_DATA_DIR", default=str(BASE_DIR / "ml_models" / "words-data"))

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
# With Redis, a task whose worker died unacknowledged is redelivered after its visibility timeout:
# long by default (a transcription or a training run may take many minutes, and one redelivered
# while still running would run twice).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=900)}
# A worker of the emotion queue alone (`-Q emotion`) gets its own short one, so the first score of a
# call whose worker was killed comes back in about a minute, not 15. Kombu keeps unacknowledged
# messages in one hash per key set, and any consumer sweeps the whole hash with its own timeout: the
# emotion workers keep theirs under keys of their own (emergency_portal/celery.py picks these options
# by the worker's queues), so they never redeliver a words task still running. Its tasks take about a
# second (re-scoring every open case, the longest, well under the timeout); sweep every 5 s.
EMOTION_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_EMOTION_VISIBILITY_TIMEOUT", default=60),
    "unacked_key": "unacked:emotion",
    "unacked_index_key": "unacked_index:emotion",
    "unacked_mutex_key": "unacked_mutex:emotion",
    "unacked_restore_interval": 5,
    "unacked_restore_throttle": 1,
}
CELERY_TASK_ROUTES = {
    "analysis.analyse_emotion": {"queue": "emotion"},
    "analysis.analyse_words": {"queue": "words"},
    "analysis.rescore_open_cases": {"queue": "emotion"},  # short work, like the acoustic step
    "analysis.dispatch_forgotten": {"queue": "emotion"},
    "learning.import_dataset": {"queue": "words"},  # long work, like a transcription
    "learning.train_model": {"queue": "words"},
    "learning.train_words_model": {"queue": "words"},
    "learning.evaluate_models": {"queue": "words"},
}
# Every 15 s, hand over again any analysis whose hand-over was lost between the commit and the
# broker (run `celery -A emergency_portal beat`, or a worker with -B).
CELERY_BEAT_SCHEDULE = {
    "dispatch-forgotten-analysis": {"task": "analysis.dispatch_forgotten", "schedule": 15.0,
                                    "options": {"queue": "emotion", "expires": 14}},
}
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
ANALYSIS_BACKEND = "celery" if CELERY_BROKER_URL else "inprocess"
# The same sweep hands an emotion job over again when it was handed over this long ago and its step
# is still waiting or running: Redis takes a message off the queue before the worker notes it as
# unacknowledged, so a worker killed in between loses it with no redelivery (most likely why the
# evening run's worker kill once left a call without its first score). The job takes about a second; running it twice is harmless.
ANALYSIS_EMOTION_STALE_SECONDS = env.float("ANALYSIS_EMOTION_STALE_SECONDS", default=180.0)

# Live calls (live/): audio streamed by a phone system while the caller is on the line.
# A stream dropped without a hang-up may reconnect with the same call id within this many seconds and
# continue the same audio; after that its audio so far becomes the case's recording ("cut off").
LIVE_RECONNECT_SECONDS = env.float("LIVE_RECONNECT_SECONDS", default=30.0)
# Received audio is written to disk at least this often (and at every disconnect).
LIVE_FLUSH_SECONDS = env.float("LIVE_FLUSH_SECONDS", default=0.25)
# One frame may carry at most this much audio (a 20 ms frame is the usual): a larger one is refused.
LIVE_MAX_FRAME_SECONDS = env.float("LIVE_MAX_FRAME_SECONDS", default=1.0)
# A call announced over the API (for AudioSocket) whose audio never comes is ended after this long.
LIVE_ANNOUNCE_SECONDS = env.float("LIVE_ANNOUNCE_SECONDS", default=300.0)
# The live worker (manage.py live_worker): a Whisper pass over each call's new audio about this often,
# the voice read over the last LIVE_VOICE_WINDOW_SECONDS every LIVE_VOICE_HOP_SECONDS, and the case
# re-scored when new words are committed, and at most this often for a change of the voice alone.
LIVE_STEP_SECONDS = env.float("LIVE_STEP_SECONDS", default=0.5)
LIVE_VOICE_WINDOW_SECONDS = env.float("LIVE_VOICE_WINDOW_SECONDS", default=4.0)
LIVE_VOICE_HOP_SECONDS = env.float("LIVE_VOICE_HOP_SECONDS", default=2.0)
LIVE_RESCORE_SECONDS = env.float("LIVE_RESCORE_SECONDS", default=1.0)
# A word the passes keep reading differently is committed once a pass has heard this much audio after
# it (and the pass before heard it too); 0: only words two passes agree on (benchmarks/live_calls.py).
LIVE_SETTLE_SECONDS = env.float("LIVE_SETTLE_SECONDS", default=1.0) or None
# Greedy decoding for live passes (a pass runs every second; the final analysis at hang-up uses a beam).
LIVE_WHISPER_BEAM = env.int("LIVE_WHISPER_BEAM", default=1)
# Live passes stay on tiny.en whatever WHISPER_MODEL says: a pass must keep up with the call.
LIVE_WHISPER_MODEL = env.str("LIVE_WHISPER_MODEL", default="tiny.en")
# Whisper passes of different calls run side by side, one core each (set it to the live worker's cores).
LIVE_WHISPER_PASSES = env.int("LIVE_WHISPER_PASSES", default=2)
CELERY_TASK_ROUTES["live.cut_off_interrupted"] = {"queue": "celery"}
CELERY_BEAT_SCHEDULE["live-cut-off-interrupted"] = {"task": "live.cut_off_interrupted", "schedule": 10.0,
                                                    "options": {"expires": 9}}

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 reads with a 5 s socket timeout by default, exactly the 5 s that channels_redis
            # blocks waiting for a message: every consumer idle for 5 s failed with "Timeout reading"
            # and its socket closed (1011). The read may now wait well past the blocking pop.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
                       "prefix": env.str("CHANNELS_PREFIX", default="asgi")},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api_keys.ApiKeyAuthentication",  # integration clients: Authorization: Api-Key <key>
        "rest_framework.authentication.SessionAuthentication",  # the pages' own fetches
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.IsOperator"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "calls.problems.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["calls.throttles.ClientRateThrottle"],
}
# Requests per client (calls.throttles): an intake client pushing 2 calls a second with retries stays
# well inside its budget; a runaway script does not.
API_THROTTLE_RATES = {
    "intake": env.str("API_RATE_INTAKE", default="600/min"),
    "user": env.str("API_RATE_USER", default="1200/min"),
    "anon": env.str("API_RATE_ANON", default="60/min"),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "112 Emergency call triage API",
    "DESCRIPTION": (
        "Push calls in (integration clients with an intake API key: `Authorization: Api-Key <key>`), read the "
        "queue, claim, release and close cases, audit calls, manage emotion model versions. Every error is an "
        "RFC 9457 problem (application/problem+json). Creating POSTs accept an `Idempotency-Key` header; reads "
        "carry an ETag (send If-None-Match) and the queue filters by `since` (updated_at)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",  # served from drf-spectacular-sidecar: no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}
if REDIS_URL:
    # Throttle counters and other shared state live in Redis, so every web worker sees the same counts.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "KEY_PREFIX": "portal"}}

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
CSRF_COOKIE_HTTPONLY = True  # no script reads it: every form carries its own token
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"  # case URLs name case numbers: never tell other sites
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Idle expiry: a session ends SESSION_IDLE_MINUTES after the person's last request (each request
# renews it), so an unattended operator desk does not stay logged in; closing the browser ends it
# too. A page's own background refreshes (header X-Background-Refresh: 1) do not renew it
# (emergency_portal.middleware.IdleSessionMiddleware), and a live websocket closes once it has ended.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_MINUTES", default=60) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Login lockout (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one username from
# one address, that pair is refused for LOGIN_LOCKOUT_MINUTES. Keyed on the pair, not the
# username alone, so nobody can lock an operator out from elsewhere during a shift.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
# A failure during a lockout does not restart its clock (the holder's own retry would, forever).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A browser that signed in as the user before is let through (accounts/login_guard.py).
AXES_WHITELIST_CALLABLE = "accounts.login_guard.known_device"
KNOWN_DEVICE_DAYS = env.int("KNOWN_DEVICE_DAYS", default=90)
# The real client behind the reverse proxy: the addresses of the proxies whose X-Forwarded-For is
# believed (none by default: then the connection's own address counts).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
AXES_CLIENT_IP_CALLABLE = "accounts.login_guard.client_ip"
# Guessing from one address: after this many failures in the window, each attempt waits a doubling
# delay up to the maximum (429 with Retry-After), whatever the usernames tried.
LOGIN_ADDRESS_FREE_FAILURES = env.int("LOGIN_ADDRESS_FREE_FAILURES", default=10)
LOGIN_ADDRESS_WINDOW_S = env.int("LOGIN_ADDRESS_WINDOW_S", default=900)
LOGIN_ADDRESS_MAX_DELAY_S = env.int("LOGIN_ADDRESS_MAX_DELAY_S", default=60)

# Content Security Policy (django-csp): scripts and style sheets only from this site, no inline
# script anywhere (templates keep their JavaScript in static/js). Inline style *attributes* stay
# allowed for the probability bars' widths: an attribute cannot run script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF],
        "style-src": [csp.SELF],
        "style-src-attr": [csp.UNSAFE_INLINE],
        "img-src": [csp.SELF, "data:"],  # Bootstrap draws its small icons as data: SVGs
        "media-src": [csp.SELF, "blob:"],  # the recorder plays back what it just recorded
        "connect-src": [csp.SELF],  # fetch and the live queue's websocket, same origin only
        "font-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        # JSON lines: a newline in a username or a path cannot forge a line (accounts/log_format.py)
        "json": {"()": "accounts.log_format.JsonLineFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "security": {"class": "logging.StreamHandler", "formatter": "json"},
    },
    "loggers": {
        "calls": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
        "analysis": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
        # Logins, failures, lockouts and refusals: who, what, when (accounts.security_log).
        "security": {"handlers": ["security"], "level": "INFO"},
        "axes": {"handlers": ["console"], "level": "WARNING"},
    },
}
