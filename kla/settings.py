"""Settings for the KLA submission engine, read from environment variables.

One module for every environment: the defaults give the embedded demo (SQLite and a local
file broker); ``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and Redis.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import sys
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


class SettingsRefused(SystemExit):
    """The settings will not load, and say why.

    Not an ``ImproperlyConfigured``: manage.py swallows that one while it reads the settings
    and then fails later with "Models aren't loaded yet", which hides the reason.
    """

    def __init__(self, message: str) -> None:
        super().__init__(f"kla.settings: {message}")


def envbool(name: str, default: bool) -> bool:
    """Read a boolean: ``true`` or ``false`` in any case; anything else stops the start."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    word = value.strip().lower()
    if word not in {"true", "false"}:
        raise SettingsRefused(f"{name} must be true or false, not {value!r}")
    return word == "true"


def envint(name: str, default: int) -> int:
    """Read an integer; anything else stops the start."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise SettingsRefused(f"{name} must be a whole number, not {value!r}") from None


def envlist(name: str, default: str) -> list[str]:
    """Read a comma-separated list."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


VAR_DIR = Path(os.environ.get("KLA_VAR_DIR", BASE_DIR / "var"))

DEBUG = envbool("DEBUG", False)
# The demo and the tests (make demo, make test, make test-fast set KLA_DEMO=1) run on plain
# http://127.0.0.1 with a key of their own; anything else must bring its own SECRET_KEY.
KLA_DEMO = os.environ.get("KLA_DEMO", "") == "1"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
# ``manage.py makemigrations`` reads the models and writes files: it neither serves nor signs,
# so it runs with a throwaway key wherever it is run (CI, a checkout with no environment).
if not SECRET_KEY and sys.argv[1:2] == ["makemigrations"]:
    SECRET_KEY = secrets.token_urlsafe(50)
if not SECRET_KEY:
    if not (DEBUG or KLA_DEMO):
        raise SettingsRefused(
            "SECRET_KEY is not set. Give the deployment a secret key of its own "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "or set KLA_DEMO=1 for the demo and the tests on http://127.0.0.1 (make sets it)."
        )
    SECRET_KEY = "insecure-demo-key-for-make-demo-and-the-tests-only"  # noqa: S105 -- demo only
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = envlist(
    "CSRF_TRUSTED_ORIGINS", "http://127.0.0.1:8000,http://localhost:8000"
)
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
# The kabupaten/kota the product runs for: pages, emails, exports and the API name it from
# here, never from code; another region sets its own with its own seed files (kla/data).
KLA_REGION_NAME = os.environ.get("KLA_REGION_NAME", "Kota Metro")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "drf_spectacular",
    "csp",
    "django_htmx",
    "guardian",
    "viewflow",
    "kla",
    "roles",
    "workflows",
]

MIDDLEWARE = [
    # First: every line logged while a request runs carries its id (kla.logs).
    "kla.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Every response of the site no-store unless it says otherwise (kla.web.sessions).
    "kla.web.sessions.PrivateResponsesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "workflows.trail.receivers.ActorMiddleware",
    # Every write of the API in one transaction, its Idempotency-Key honoured (kla.api).
    "kla.api.idempotency.ApiWriteMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Sessions end when idle and after a while in any case; the form being sent is kept.
    "kla.web.sessions.SessionLimitsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Service refusals (kla.errors) become pages with their status (innermost: first to see).
    "kla.web.middleware.ServiceErrorMiddleware",
    # Repeated failed sign-ins lock the account or the address for a while (axes: last).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kla.urls"
WSGI_APPLICATION = "kla.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kla.web.context_processors.notifications",
                "kla.web.context_processors.due_times",
                "kla.web.context_processors.instruction_switcher",
                "kla.web.context_processors.region",
            ],
            # The pages' template tags live with the pages (``kla.web``), not in an app.
            "libraries": {
                name: f"kla.web.templatetags.{name}"
                for name in (
                    "checklist_tags",
                    "compliance_tags",
                    "finding_tags",
                    "kla_consolidation",
                    "kla_tags",
                    "list_tags",
                    "monitoring_tags",
                    "sla_tags",
                    "trail_tags",
                )
            },
            # Dates and times in one style on every page, without a load tag in each.
            "builtins": ["kla.web.templatetags.kla_time"],
        },
    },
]

# Database: SQLite (WAL, immediate transactions) unless DATABASE_URL names another.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    # Persistent connections, checked before each request reuses one: a database restart
    # costs a reconnect, never a 500 (CONN_HEALTH_CHECKS).
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=envint("CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # A database that does not answer is noticed in seconds, not after minutes.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
            "connect_timeout", envint("DATABASE_CONNECT_TIMEOUT", 5)
        )
        DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ.get(
            "TEST_DATABASE_NAME", "test_kla"
        )
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(VAR_DIR / "kla.sqlite3")),
            "OPTIONS": {
                # Web, worker and beat write at once: WAL plus immediate transactions
                # avoid "database is locked" on upgrade from read to write.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
# DATABASE_POOLER=transaction: DATABASE_URL names PgBouncer (or a pooler like it) in transaction
# mode, where each transaction may run on another server connection (docs/scale-out.md). Then
# nothing may outlive a transaction: no server-side cursors (``.iterator()`` would declare one
# and fetch from it later, elsewhere), no prepared statements (psycopg prepares a query after
# five runs; PgBouncer before 1.21 does not carry them over), and the pooler, not Django, keeps
# the connections. ``session`` (or empty): a direct connection or a session-mode pooler.
DATABASE_POOLER = os.environ.get("DATABASE_POOLER", "").strip().lower()
if DATABASE_POOLER not in {"", "session", "transaction"}:
    raise SettingsRefused(
        f"DATABASE_POOLER must be transaction or session, not {DATABASE_POOLER!r}"
    )
if DATABASE_POOLER == "transaction":
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise SettingsRefused("DATABASE_POOLER=transaction needs a PostgreSQL DATABASE_URL")
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = None
    # Django's own pool would pool the pooler; persistent connections to it are cheap.
    DATABASES["default"]["OPTIONS"].pop("pool", None)
# The action's hot statements (``workflows.compiled``) run prepared on PostgreSQL: parsed and
# planned once per connection. Off by default under a transaction-mode pooler, where a
# prepared statement may be missing from the next server connection; PgBouncer 1.22 or newer
# with ``max_prepared_statements`` set carries them over, and then this may be turned on.
DATABASE_PREPARED_STATEMENTS = envbool(
    "DATABASE_PREPARED_STATEMENTS", DATABASE_POOLER != "transaction"
)
if DATABASE_PREPARED_STATEMENTS and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # psycopg prepares nothing while this is None, even when asked; Django's own cursors bind
    # on the client and never prepare, so only the compiled statements' cursor is affected.
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # At least 12 characters, and none of the common passwords (OWASP ASVS 2.1).
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked account or address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Guardian's anonymous user is not needed: anonymous people see nothing.
ANONYMOUS_USER_NAME = None

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tasks"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    # Evidence lives outside the web root and is never served directly: only the
    # download views, which check rights and write a trail event, read it.
    "default": {
        "BACKEND": os.environ.get(
            "EVIDENCE_STORAGE", "django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": {"location": os.environ.get("EVIDENCE_ROOT", str(VAR_DIR / "evidence"))}
        if "EVIDENCE_STORAGE" not in os.environ
        else {},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Several machines: evidence and exports on one S3-compatible bucket (MinIO, Ceph, AWS...)
# every web process and worker reads and writes, through django-storages. Private objects
# only, never a public or signed URL: the download views stream them, as from the folder.
STORAGE_S3_BUCKET = os.environ.get("STORAGE_S3_BUCKET", "")
if STORAGE_S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": STORAGE_S3_BUCKET,
            "endpoint_url": os.environ.get("STORAGE_S3_ENDPOINT_URL") or None,
            "access_key": os.environ.get("STORAGE_S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("STORAGE_S3_SECRET_ACCESS_KEY") or None,
            "region_name": os.environ.get("STORAGE_S3_REGION") or None,
            "location": os.environ.get("STORAGE_S3_PREFIX", ""),
            "default_acl": "private",
            "querystring_auth": True,
            # Two uploads of one name never overwrite each other (as in the folder).
            "file_overwrite": False,
            # MinIO and most S3-compatible servers want path-style addresses.
            "addressing_style": os.environ.get("STORAGE_S3_ADDRESSING_STYLE", "path"),
        },
    }
MEDIA_ROOT = os.environ.get("EVIDENCE_ROOT", str(VAR_DIR / "evidence"))

EVIDENCE_MAX_MB = envint("EVIDENCE_MAX_MB", 20)
# Every upload is scanned by ClamAV's clamd when this names it (a Unix socket path, or
# tcp://host:3310); empty: no scanning. CLAMAV_TIMEOUT bounds each connect, send and read.
CLAMAV_SOCKET = os.environ.get("CLAMAV_SOCKET", "")
CLAMAV_TIMEOUT = envint("CLAMAV_TIMEOUT", 30)
FILE_UPLOAD_HANDLERS = ["kla.uploads.EvidenceSizeLimitHandler"]
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# A deployment names its own sender; the default belongs to no region.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "kla@localhost")

# Celery: Redis when REDIS_URL is set, else a local file broker for the embedded demo.
REDIS_URL = os.environ.get("REDIS_URL", "")
# The cache every process shares (the sign-in and reset throttles): Redis, else files.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "kla"),
        "OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2},
    }
    if REDIS_URL
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache"),
    }
}
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
else:
    # The folders are made when the app starts (``KlaConfig.ready``), not here.
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
# Publishing never waits long: connect and send are bounded, retried twice at most, and the
# publish itself runs beside the request (kla.queue), so a broker that refuses, hangs or is
# gone delays the work (the relay sends it later) and never the answer.
BROKER_SOCKET_TIMEOUT = float(envint("BROKER_SOCKET_TIMEOUT", 5))
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_SOCKET_TIMEOUT
CELERY_BROKER_TRANSPORT_OPTIONS.update(
    {"socket_timeout": BROKER_SOCKET_TIMEOUT, "socket_connect_timeout": BROKER_SOCKET_TIMEOUT}
    if REDIS_URL
    else {}
)
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# One beat at a time (kla.beat): each takes a lock as it starts, in Redis when REDIS_URL is set
# (renewed by the holder, gone BEAT_LOCK_SECONDS after it dies), else a file lock of this
# machine. A second beat stands by until the first stops, or with BEAT_LOCK_STANDBY=false
# refuses to start.
BEAT_LOCK = envbool("BEAT_LOCK", True)
BEAT_LOCK_SECONDS = envint("BEAT_LOCK_SECONDS", 60)
if BEAT_LOCK_SECONDS < 3:
    raise SettingsRefused("BEAT_LOCK_SECONDS must be at least 3")
BEAT_LOCK_STANDBY = envbool("BEAT_LOCK_STANDBY", True)
# The SLA sweep (escalations, reminders, the email outbox) every few minutes; what it
# sends is claimed in the database, so overlapping sweeps are harmless.
RELAY_SECONDS = envint("RELAY_SECONDS", 60)
CELERY_BEAT_SCHEDULE = {
    "sla-sweep": {
        "task": "workflows.tasks.sla_sweep_task",
        "schedule": float(envint("SLA_SWEEP_SECONDS", 300)),
    },
    # The relay: what the broker could not take when it was owed goes out once it can.
    # Emails not sent yet (the rows are the outbox), with the heartbeat /healthz/ reads ...
    "relay": {
        "task": "workflows.tasks.relay",
        "schedule": float(RELAY_SECONDS),
    },
    # ... and exports whose message or worker was lost (broker down, worker killed).
    "requeue-stale-exports": {
        "task": "kla.tasks.requeue_stale_exports",
        "schedule": float(RELAY_SECONDS),
    },
    # Fixity of stored files: each WIB day (CELERY_TIMEZONE) its seventh of the evidence and
    # follow-up files is hashed against their upload events, so every file within a week.
    "evidence-fixity": {
        "task": "workflows.tasks.fixity_check_task",
        "schedule": crontab(hour=1, minute=30),
    },
}

# The trail's log (workflows.trail): a Merkle tree over every event, sequenced every minute,
# and checkpoints signed with an Ed25519 key kept in a file, never in the database
# (``manage.py trail_keygen`` writes one). Each checkpoint is also written to
# TRAIL_CHECKPOINT_DIR (write-once storage in production).
TRAIL_ORIGIN = os.environ.get("TRAIL_ORIGIN", "") or (
    (urlsplit(SITE_URL).hostname or "localhost") + "/kla-trail"
)
TRAIL_SIGNING_KEY_FILE = Path(
    os.environ.get("TRAIL_SIGNING_KEY_FILE", VAR_DIR / "trail-signing.key")
)
TRAIL_CHECKPOINT_DIR = Path(os.environ.get("TRAIL_CHECKPOINT_DIR", VAR_DIR / "checkpoints"))
TRAIL_CHECKPOINT_SECONDS = envint("TRAIL_CHECKPOINT_SECONDS", 900)
TRAIL_SEQUENCE_SECONDS = envint("TRAIL_SEQUENCE_SECONDS", 60)
CELERY_BEAT_SCHEDULE |= {
    "trail-sequence": {
        "task": "workflows.tasks.trail_sequence",
        "schedule": float(TRAIL_SEQUENCE_SECONDS),
    },
    # Cut when the tree grew; also mails each day's last checkpoint to every auditor.
    "trail-checkpoint": {
        "task": "workflows.tasks.trail_checkpoint",
        "schedule": float(TRAIL_CHECKPOINT_SECONDS),
    },
}

REST_FRAMEWORK = {
    # Token first: it answers anonymous requests with WWW-Authenticate, hence 401, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "kla.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "kla.api.exceptions.exception_handler",
    "DATETIME_FORMAT": "iso-8601",
}
# API tokens (django-rest-knox): stored hashed, several per person, each dying after
# API_TOKEN_IDLE_HOURS without use (every use moves the expiry on), revoked by its owner, and
# all of a person's tokens when their password changes (kla.api.tokens); none lives longer
# than API_TOKEN_MAX_DAYS however busy.
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_TTL": dt.timedelta(hours=envint("API_TOKEN_IDLE_HOURS", 10)),
    "AUTO_REFRESH": True,
    "AUTO_REFRESH_MAX_TTL": dt.timedelta(days=envint("API_TOKEN_MAX_DAYS", 30)),
    # The moved-on expiry is written once it would move by more than this (seconds), not on
    # every request: at most one write per token per quarter hour, the idle time kept to the
    # quarter hour.
    "MIN_REFRESH_INTERVAL": 15 * 60,
    # Reached: the token endpoint answers 409 until the person revokes one (kla.api.tokens).
    "TOKEN_LIMIT_PER_USER": envint("API_TOKENS_PER_PERSON", 20),
}
# Sign-in throttling (django-axes; OWASP ASVS 2.2): after AXES_FAILURE_LIMIT failures in a
# row for one account, or from one address, further attempts are refused (the right password
# too) with 429 for a while that grows with the failures (1, 2, 4, 8, then 15 minutes) and
# never passes 15 minutes, so nobody can lock a Kepala Dinas out on the deadline day; attempts
# refused during a lock neither count nor lengthen it. A success forgets the account's
# failures; successes are not logged. The pages, the admin and the token endpoint alike
# (kla.web.lockout); password reset has its own throttle (kla.web.views.password).
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 10)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "kla.web.lockout.LockoutHandler"
AXES_COOLOFF_TIME = "kla.web.lockout.cooloff"
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True
AXES_LOCKOUT_CALLABLE = "kla.web.lockout.lockout_response"
AXES_USERNAME_FORM_FIELD = "username"
# The client's address: REMOTE_ADDR, or behind PROXY_COUNT proxies the one the outermost saw
# (X-Forwarded-For from the right); django-ipware is not installed, so axes' own reading would
# see only REMOTE_ADDR, the proxy, and lock everybody at once.
AXES_IPWARE_PROXY_COUNT = envint("PROXY_COUNT", 0) or None
AXES_CLIENT_IP_CALLABLE = "kla.web.lockout.client_ip"
SPECTACULAR_SETTINGS = {
    "TITLE": f"KLA {KLA_REGION_NAME} API",
    "DESCRIPTION": (
        "Submissions of the bodies a Kota Layak Anak instruction is addressed to, their "
        "verification, consolidation and audit"
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # One name for the evidence kinds wherever they appear (a file's kind, a requirement's).
    "ENUM_NAME_OVERRIDES": {
        "EvidenceKindEnum": "kla.models.EvidenceKind",
        "SubmissionStateEnum": "kla.models.SubmissionState",
        "CategoryEnum": "kla.models.Category",
        "ActionEnum": "workflows.flow.ACTIONS",
        "ExportKindEnum": "kla.models.ExportKind",
        "ExportStateEnum": "kla.models.ExportState",
        "FindingStatusEnum": "workflows.models.FindingStatus",
        "RecommendationStatusEnum": "workflows.models.RecommendationStatus",
        "AssessmentStatusEnum": ["resolved", "in_progress", "unresolvable"],
        "FollowUpKindEnum": "workflows.models.FollowUpKind",
        "MonitoringRoleEnum": ["verifier", "consolidator"],
    },
    # The title is named again as each schema is made, from the region's setting of the time.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "kla.api.schema.name_the_region",
        # Every operation's error statuses, with the bodies' shapes (kla.api.schema).
        "kla.api.schema.describe_errors",
    ],
}

# Logs: JSON lines on standard error, each with the request's or task's id (kla.logs);
# LOG_FORMAT=text for a terminal.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
if LOG_FORMAT not in {"json", "text"}:
    raise SettingsRefused(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "kla.logs.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

SESSION_COOKIE_HTTPONLY = True
# A session ends after SESSION_IDLE_MINUTES without a request (at least 30: a form takes time)
# and SESSION_MAX_HOURS after signing in, whatever happens in between (kla.web.sessions).
SESSION_IDLE_MINUTES = envint("SESSION_IDLE_MINUTES", 30)
if SESSION_IDLE_MINUTES < 30:
    raise SettingsRefused("SESSION_IDLE_MINUTES must be at least 30: forms take time to fill")
SESSION_MAX_HOURS = envint("SESSION_MAX_HOURS", 12)
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# A strict Content-Security-Policy on every response, the admin and the browsable API included:
# scripts and styles only from our own static files (no inline code, no CDN). Pico's form icons
# are data: SVGs, hence img-src data:.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}
if not (DEBUG or KLA_DEMO):
    # Production: HTTPS only (a proxy in front names the scheme with X-Forwarded-Proto).
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", True)
    if envbool("BEHIND_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
