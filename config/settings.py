"""Redress settings: one file, driven by environment variables.

Every setting has a safe default for the embedded, single-machine mode
(SQLite, a file-system Celery broker, emails written to files). A deployment
overrides them through the environment; `.env.example` documents each one.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

from config.observability import logging_config
from config.storage import s3_storage

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("REDRESS_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)


def _secret_key() -> str:
    key = env.str("SECRET_KEY", default="")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random "
            "value (python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "or set DEBUG=true for local development only."
        )
    # Local development only: keep one generated key so sessions survive restarts.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()


def _bank_details_keys() -> list[str]:
    keys = env.list("BANK_DETAILS_KEYS", default=[])
    if keys or not DEBUG:
        return keys  # production without keys fails the claims.E001 system check
    key_file = VAR_DIR / "bank_details_key"
    if not key_file.exists():
        from cryptography.fernet import Fernet

        key_file.write_text(Fernet.generate_key().decode())
        key_file.chmod(0o600)
    return [key_file.read_text().strip()]


# Fernet keys for bank details, newest first; separate from SECRET_KEY so one leak
# does not expose the other. `manage.py rotate_bank_details` re-encrypts with the first.
BANK_DETAILS_KEYS = _bank_details_keys()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    # django.contrib.admin, with its app index built only where shown (claims.staff.site).
    "claims.apps.RedressAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    # Staff sign-in: allauth runs password + TOTP and enrolment, axes locks out.
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "csp",
    "claims",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After whitenoise: static files keep their long cache; every page gets the rest.
    "config.security.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.security.SessionMiddleware",  # Django's, safe against a stale cookie
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Before the staff session's clock, which says why it signed someone out.
    "django.contrib.messages.middleware.MessageMiddleware",
    "config.security.StaffSessionTimeoutMiddleware",
    "claims.staff.auth.StaffSecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as axes asks: it turns a locked-out sign-in into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
# Widgets render from our templates/ too (claims/widgets/…), falling back to Django's.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# No "loaders": Django then wraps its loaders in the cached loader, so each template is
# read and compiled once a process (tests/config/test_production_settings.py holds this).
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

# --- Database -------------------------------------------------------------
# An empty variable means "use the default", as an unset one does.
DATABASES = {
    "default": env.db_url_config(
        env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'redress.sqlite3'}"
    ),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: WAL lets readers run beside the writer,
    # IMMEDIATE takes the write lock at BEGIN so select_for_update-style sections
    # serialise instead of failing with "database is locked" halfway through.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        # Parameters sent apart from the query, and a query a connection has run five
        # times prepared, so PostgreSQL stops parsing and planning it again: about half
        # of a claim submission's database time (bench/submission.py). Set false behind
        # a pooler that cannot keep a connection's prepared statements (PgBouncer in
        # transaction mode, unless 1.21 or later with max_prepared_statements set).
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=5
        )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    # Shared by every local process (unlike LocMemCache), so rate limits hold.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            # Past MAX_ENTRIES files Django deletes a third of them at random, rate-limit
            # counts included (the default 300 let a used-up limit pass again).
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

# --- Celery ---------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "celery-broker"
    _broker_dir.mkdir(exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Above the longest task (CELERY_TASK_TIME_LIMIT) and the longest retry delay
        # (EMAIL_RETRY_MAX_SECONDS), so Redis never hands a task that is running, or
        # waiting for its retry time, to a second worker.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
        # An unreachable broker costs a request at most this per publishing attempt.
        "socket_connect_timeout": 2,
    }
    if _key_prefix := env.str("CELERY_BROKER_KEY_PREFIX", default=""):
        # Several deployments (or test runs) sharing one Redis keep apart by prefix.
        CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = _key_prefix
CELERY_TASK_IGNORE_RESULT = True
# At least once: a message is acknowledged after its task ends, and a worker that dies
# mid-task hands it back. The tasks make a second run harmless (claims.delivery.tasks).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_MAX_TASKS_PER_CHILD = 1000
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
# A web request publishes after its commit; with the broker down it gives up quickly
# (the row stays pending for the outbox sweeper) instead of hanging the request.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.1,
    "interval_max": 0.2,
}
# notifications: claimants' status updates and staff digests; notices: the notice
# campaign's bulk sends, apart so 26,000 of them never delay a status update;
# letters: settlement letters; housekeeping: the sweeper and the scheme's clock.
CELERY_TASK_DEFAULT_QUEUE = "housekeeping"
CELERY_TASK_ROUTES = {
    "claims.tasks.status_update_send": {"queue": "notifications"},
    "claims.tasks.staff_digest_send": {"queue": "notifications"},
    # Carries a claim's status update with its other tasks (claims.delivery.emails).
    "claims.tasks.publish_together": {"queue": "notifications"},
    "claims.tasks.notice_*": {"queue": "notices"},
    "claims.tasks.letter_*": {"queue": "letters"},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")


def _daily(hour: int, minute: int, days: str = "*") -> object:
    from celery.schedules import crontab

    return crontab(hour=hour, minute=minute, day_of_week=days)


# The scheme's clock (claims.actions.clock): each job is safe to run twice or late.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "outbox-sweep": {
        "task": "claims.tasks.outbox_sweep",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "close-incomplete": {"task": "claims.tasks.clock_close_incomplete", "schedule": _daily(0, 15)},
    "expire-offers": {"task": "claims.tasks.clock_expire_offers", "schedule": _daily(0, 20)},
    "reminders": {"task": "claims.tasks.clock_send_reminders", "schedule": _daily(8, 0)},
    "offer-expiring": {"task": "claims.tasks.clock_warn_expiring_offers", "schedule": _daily(8, 5)},
    "digests": {"task": "claims.tasks.clock_send_digests", "schedule": _daily(7, 30, "mon-fri")},
    "flags-sweep": {
        "task": "claims.tasks.claim_flags_sweep",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "letters-sweep": {
        "task": "claims.tasks.letter_requests_sweep",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
}
CELERY_TIMEZONE = "Europe/London"

# --- Email ----------------------------------------------------------------
_email_url = env.str("EMAIL_URL", default="")
if _email_url:
    vars().update(env.email_url_config(_email_url))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
# Any provider through django-anymail, e.g. EMAIL_BACKEND=anymail.backends.postmark.EmailBackend
# with ANYMAIL_POSTMARK_SERVER_TOKEN=...: every ANYMAIL_<NAME> variable becomes ANYMAIL[NAME].
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default=EMAIL_BACKEND)
ANYMAIL = {
    name.removeprefix("ANYMAIL_"): value
    for name, value in env.ENVIRON.items()
    if name.startswith("ANYMAIL_")
}
# Seconds; Django's default is to wait for ever on a provider that stopped answering.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Redress <claims@redress.invalid>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Delivery (claims.delivery.emails): attempts per email before it is marked failed, the
# first retry delay (doubling each time, up to the maximum) and how long a pending email
# may be overdue before the sweeper queues it again.
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=6)
EMAIL_RETRY_SECONDS = env.float("EMAIL_RETRY_SECONDS", default=30.0)
EMAIL_RETRY_MAX_SECONDS = env.float("EMAIL_RETRY_MAX_SECONDS", default=900.0)
OUTBOX_SWEEP_AFTER_SECONDS = env.int("OUTBOX_SWEEP_AFTER_SECONDS", default=300)
# How long an email being sent is left to its sender before another worker may try: past
# the task's hard time limit, so the first sender is surely gone by then.
EMAIL_SEND_LEASE_SECONDS = env.int("EMAIL_SEND_LEASE_SECONDS", default=CELERY_TASK_TIME_LIMIT + 30)
NOTICE_CHUNK_SIZE = env.int("NOTICE_CHUNK_SIZE", default=100)
# The scheme's clock: warn a claimant this many working days before an offer lapses.
# (What is overdue, for the claims list and the staff digest alike, is each stage's
# service standard: claims.queries.queues.SERVICE_LEVEL_WORKING_DAYS.)
OFFER_EXPIRING_WARNING_WORKING_DAYS = 5

# --- Letters (claims.delivery.letters) ---------------------------------------------
# A letter that takes longer than this to render is stopped (a letter takes ~0.1 s).
LETTER_RENDER_SECONDS = env.float("LETTER_RENDER_SECONDS", default=60.0)
# Attempts per letter before its request is marked failed, and the wait between them.
LETTER_MAX_ATTEMPTS = env.int("LETTER_MAX_ATTEMPTS", default=3)
LETTER_RETRY_SECONDS = env.float("LETTER_RETRY_SECONDS", default=60.0)

# --- Files ----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Uploads are never served from a public URL; views check who may see each file.
MEDIA_URL = "/media-not-public/"
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            # Hashed names need `collectstatic` first; local runs and tests skip it.
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env.bool("STATIC_MANIFEST", default=not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Auth and security ----------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sessions in the database only (Django's own store), not
# cached_db: that engine writes a session read from the database back to the cache
# unguarded, so with Redis down every page with a session (every claimant mid-claim,
# every member of staff) would fail, and a sign-out could leave a live copy in Redis
# (tests/actions/test_access_links.py::test_pages_work_with_the_cache_down).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)

# --- Security (issue 8): HTTPS, headers, cookies, session lifetimes -----------
# docs/security.md explains each; tests/security/ proves them. Production (DEBUG off)
# is HTTPS only; a deployment behind a proxy that ends TLS sets SECURE_PROXY_SSL_HEADER.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = env.list("SECURE_REDIRECT_EXEMPT", default=[])
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Browsers accept a __Host- cookie only over HTTPS, for this host alone and path "/":
# no subdomain or plain-HTTP page can set or overwrite it.
if not DEBUG and SESSION_COOKIE_SECURE:
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
# Staff sessions end after this much idleness, and this long after signing in whatever
# happens (config.security); every session ends when the browser closes.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
STAFF_IDLE_MINUTES = env.int("STAFF_IDLE_MINUTES", default=30)
STAFF_SESSION_HOURS = env.int("STAFF_SESSION_HOURS", default=10)
# django-csp 4: scripts and styles only from our own static files, never inline; the
# TOTP enrolment QR code is a data: image. No page may be framed.
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}
# Rate limits (claims.claimant.views.common.RATE_LIMITS, allauth's staff sign-in limits) count
# by the client's address; behind N proxies that add X-Forwarded-For, set N.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
RATELIMIT_IP_META_KEY = "config.security.client_ip"
# No page needs a camera, microphone, location, payment or other powerful feature.
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=()"
)

# Privacy (claims.actions.privacy): drafts never submitted are erased after this many days
# untouched; closed claims after their scheme's retention_years. Daily at 02:30, and a
# dry-run report of what is coming every Monday (in the worker's log).
DRAFT_RETENTION_DAYS = env.int("DRAFT_RETENTION_DAYS", default=180)
CELERY_BEAT_SCHEDULE["retention"] = {
    "task": "claims.tasks.retention_run",
    "schedule": _daily(2, 30),
}
CELERY_BEAT_SCHEDULE["retention-report"] = {
    "task": "claims.tasks.retention_report",
    "schedule": _daily(6, 0, "mon"),
}

# Staff sign in at /staff/ with a password and then a TOTP code (recovery codes if
# the phone is lost); claimants never sign in. claims.staff.auth keeps every admin
# page closed to a session without the second factor and sends new staff to enrol.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, reading a user's permissions in one query (claims.staff.site).
    "claims.staff.site.PermissionsModelBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "admin:index"
ACCOUNT_ADAPTER = "claims.staff.auth.StaffAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_SESSION_REMEMBER = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Redress"
# Repeated password failures lock the account for a while (database records, so it
# holds across processes on SQLite and PostgreSQL alike); a success clears them.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
# By account, not by address: staff share office addresses, and one person's typos
# must not lock out the whole office. allauth limits each address (10 failures a
# minute), so rotating user agents gains a guesser nothing.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_USERNAME_CALLABLE = "claims.staff.auth.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "account/locked_out.html"
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"

# --- Locale ---------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- Production topology (issue 9): logs, request ids, /healthz, S3 ----------------
# Processes: gunicorn (config/gunicorn.py), a Celery worker per queue, one beat
# (Procfile.prod, `make run-prod`; docs/deployment.md). PostgreSQL's persistent
# connections and their health checks are set with DATABASES above.
#
# A request id on every request, log line and the Celery tasks a request causes, and
# /healthz answered before host checks and redirects (config/observability.py, health.py).
MIDDLEWARE = [
    "config.observability.RequestIdMiddleware",
    "config.health.HealthCheckMiddleware",
    *MIDDLEWARE,
]
# Where load balancers probe (config/health.py answers it; the request log names it).
HEALTH_CHECK_PATH = "/healthz"
# json: one JSON object per line, for a log collector (default without DEBUG); text: for people.
LOG_FORMAT = env.str("LOG_FORMAT", default="") or ("text" if DEBUG else "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}.")
LOGGING = logging_config(log_format=LOG_FORMAT, level=env.str("LOG_LEVEL", default="INFO"))
# Deployments (or bench runs) sharing one Redis keep their cache keys apart, as the
# broker's with CELERY_BROKER_KEY_PREFIX.
CACHES["default"]["KEY_PREFIX"] = env.str("CACHE_KEY_PREFIX", default="")

# Files on S3-compatible object storage when S3_BUCKET is set (config/storage.py: private
# objects, credentials as boto3 finds them); local disk under MEDIA_ROOT otherwise.
S3_BUCKET = env.str("S3_BUCKET", default="")
if S3_BUCKET:
    STORAGES["default"] = s3_storage(
        bucket=S3_BUCKET,
        endpoint_url=env.str("S3_ENDPOINT_URL", default=""),
        region=env.str("S3_REGION", default=""),
        prefix=env.str("S3_PREFIX", default=""),
        addressing_style=env.str("S3_ADDRESSING_STYLE", default=""),
    )
