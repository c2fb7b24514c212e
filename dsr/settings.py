"""Settings for the DSR service, read from the environment.

Development is the default profile; `DSR_ENV=production` switches on the secure defaults that
`manage.py check --deploy` asks for. Every variable is documented in `.env.example`.
"""

import datetime as dt
import sys
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from dsr.formats.en import formats as display_formats

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DSR_ENV = env.str("DSR_ENV", default="development")
PRODUCTION = DSR_ENV == "production"

SECRET_KEY = env.str(
    "DJANGO_SECRET_KEY",
    default="" if PRODUCTION else "development-only-key-not-secret-3c1f9a7e5d2b4c6a8e0f",
)
if PRODUCTION and len(SECRET_KEY) < 40:
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY to a long random value in production.")
DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_filters",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "accounts",
    "registers",
    "reporting",
]

MIDDLEWARE = [
    # Outermost: the request id for every log line, and every request counted and timed.
    "dsr.logs.RequestIdMiddleware",
    "dsr.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "accounts.security.SecurityHeadersMiddleware",
    # /healthz, /readyz and /metrics: before sessions, sign-in and the tenant scope (dsr/health.py).
    "dsr.health.OperationsMiddleware",
    # Oversized API bodies: a problem-details 413 before anything reads them.
    "registers.api.errors.ApiBodyLimitMiddleware",
    # RateLimit and Deprecation headers on every API answer (registers/api/headers.py).
    "registers.api.headers.ApiHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Django's, except that a session that cannot be saved after a committed change is not an error.
    "dsr.middleware.CommittedSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "registers.middleware.TenantScopeMiddleware",
    # Inside the request's transaction: a statement or lock wait that ran out is the service's 503.
    "dsr.middleware.DatabaseBusyMiddleware",
    "accounts.mfa.CachedOTPMiddleware",
    "accounts.mfa.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dsr.urls"
WSGI_APPLICATION = "dsr.wsgi.application"

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
                "registers.context_processors.scope",
            ],
            # `{% url %}` remembering what it reversed (dsr/urltags.py).
            "builtins": ["dsr.urltags"],
        },
    },
]

# The credentials of this process's database role (docs/security.md, "Database roles"): the
# runtime role for the web server, the worker role for Celery and management commands, the owner
# for migrations. Each process is given only its own URL; none is a superuser or has BYPASSRLS,
# so row-level security binds them all (registers/access.py).
DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://dsr_app:dsr_app@127.0.0.1:5432/dsr"),
}
# The cross-tenant role that `registers.access.system_scope` becomes (the worker role may; the
# runtime role may not), and the role a tenant scope acts as: "none" is the role this process
# logged in as (the test suite, logged in as the owner, acts as the runtime role "dsr_app").
DSR_DB_SYSTEM_ROLE = "dsr_system"
DSR_DB_TENANT_ROLE = env.str("DSR_DB_TENANT_ROLE", default="none")
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# No JIT compilation: it adds about 200 ms to each large report query and gains nothing on the
# short queries that pages run (bench/README.md, "Found and fixed").
# Bounded waits for every connection (the web's runtime role): a statement running longer than
# DSR_DB_STATEMENT_TIMEOUT_MS is cancelled, a lock not granted within DSR_DB_LOCK_TIMEOUT_MS is
# given up, and a transaction left idle is ended; the request then answers the service's 503
# (dsr/middleware.py). Report work may take longer: Celery's workers and management commands get
# DSR_DB_JOB_STATEMENT_TIMEOUT_MS for statements and idle transactions (DSR_DB_LONG_WAITS).
# gunicorn's timeout is above the web's statement timeout (gunicorn.conf.py).
DSR_DB_JOB_STATEMENT_TIMEOUT_MS = env.int("DSR_DB_JOB_STATEMENT_TIMEOUT_MS", default=600_000)
_program = Path(sys.argv[0]).name if sys.argv else ""
DSR_DB_LONG_WAITS = env.bool(
    "DSR_DB_LONG_WAITS",
    default=_program == "celery" or (_program == "manage.py" and sys.argv[1:2] != ["runserver"]),
)
DSR_DB_STATEMENT_TIMEOUT_MS = (
    DSR_DB_JOB_STATEMENT_TIMEOUT_MS
    if DSR_DB_LONG_WAITS
    else env.int("DSR_DB_STATEMENT_TIMEOUT_MS", default=15_000)
)
DSR_DB_LOCK_TIMEOUT_MS = env.int("DSR_DB_LOCK_TIMEOUT_MS", default=5_000)
DSR_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = (
    DSR_DB_JOB_STATEMENT_TIMEOUT_MS
    if DSR_DB_LONG_WAITS
    else env.int("DSR_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", default=60_000)
)
DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
    "options",
    f"-c jit=off -c statement_timeout={DSR_DB_STATEMENT_TIMEOUT_MS}"
    f" -c lock_timeout={DSR_DB_LOCK_TIMEOUT_MS}"
    f" -c idle_in_transaction_session_timeout={DSR_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS}",
)
# A request's fixed statements (its session, its scope, the person page's reads) prepared once per
# connection (dsr/prepared.py); off behind a pooler in transaction mode.
DSR_DB_PREPARED_STATEMENTS = env.bool("DSR_DB_PREPARED_STATEMENTS", default=True)
if DSR_DB_PREPARED_STATEMENTS:
    # psycopg prepares nothing without a threshold; Django's own cursors bind on the client and
    # never prepare, so only dsr.prepared's statements are.
    DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 0)
# An optional read replica (a streaming standby of the primary), given with this process's own
# role's credentials on it: the national figures page reads stored national releases there, in the
# request's sealed scope (registers.access.reporting_reads, dsr/routers.py; docs/operations.md,
# "Read replica"). Unset, there is no such alias and every query goes to the primary.
if env.str("DATABASE_REPLICA_URL", default=""):
    _replica = env.db("DATABASE_REPLICA_URL")
    DATABASES["replica"] = _replica | {
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": DATABASES["default"]["CONN_HEALTH_CHECKS"],
        # The same bounded waits; the replica URL's own options (sslmode, ...) added to them.
        # A standby that is away is given up after a few seconds (the page then reads the
        # primary), unless the URL says otherwise (?connect_timeout=N).
        "OPTIONS": DATABASES["default"]["OPTIONS"]
        | {"connect_timeout": 3}
        | _replica.get("OPTIONS", {}),
    }
    # Under test the replica is the test database itself, on a connection of its own.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["dsr.routers.ReportingReadRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Redis, as cache and as broker, gets short socket timeouts: a Redis that is down or hangs costs
# a request about a second, not 15 (docs/operations.md, "When something fails").
DSR_REDIS_SOCKET_TIMEOUT = env.float("DSR_REDIS_SOCKET_TIMEOUT", default=1.0)
CACHES = {
    "default": {
        "BACKEND": "dsr.redis_cache.ReusingRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="dsr"),
        "OPTIONS": {
            "socket_timeout": DSR_REDIS_SOCKET_TIMEOUT,
            "socket_connect_timeout": DSR_REDIS_SOCKET_TIMEOUT,
        },
    }
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First, as django-axes asks: refuses a locked-out sign-in before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
# One date format for display everywhere (dsr/formats/en/formats.py, registers/labels.py).
FORMAT_MODULE_PATH = ["dsr.formats"]
# The same formats where no language is active (a task, a command).
DATE_FORMAT = display_formats.DATE_FORMAT
SHORT_DATE_FORMAT = display_formats.SHORT_DATE_FORMAT
DATETIME_FORMAT = display_formats.DATETIME_FORMAT
SHORT_DATETIME_FORMAT = display_formats.SHORT_DATETIME_FORMAT

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("DSR_MEDIA_ROOT", default=BASE_DIR / "var" / "media")
# Generated files: in PostgreSQL by default, so any web process serves what any worker built
# (reporting/storage.py); "s3" for S3-compatible object storage through django-storages;
# "filesystem" keeps them under DSR_MEDIA_ROOT (one machine only). docs/operations.md.
DSR_FILE_STORAGE = env.str("DSR_FILE_STORAGE", default="database")
_FILE_STORAGES = {
    "database": {"BACKEND": "reporting.storage.DatabaseStorage"},
    "filesystem": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "s3": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("DSR_S3_BUCKET", default=""),
            "endpoint_url": env.str("DSR_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("DSR_S3_REGION", default="") or None,
            "access_key": env.str("DSR_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("DSR_S3_SECRET_ACCESS_KEY", default="") or None,
            "location": env.str("DSR_S3_PREFIX", default=""),
            # Private objects, never overwritten, read only through the download view.
            "default_acl": "private",
            "file_overwrite": False,
            "querystring_auth": True,
        },
    },
}
if DSR_FILE_STORAGE not in _FILE_STORAGES:
    raise ImproperlyConfigured(
        f"DSR_FILE_STORAGE must be one of {', '.join(_FILE_STORAGES)}, not {DSR_FILE_STORAGE!r}."
    )
STORAGES = {
    "default": _FILE_STORAGES[DSR_FILE_STORAGE],
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="dsr@localhost")
EMAIL_HOST = env.str("DJANGO_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("DJANGO_EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("DJANGO_EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("DJANGO_EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("DJANGO_EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("DJANGO_EMAIL_TIMEOUT", default=30)
# "Forgot your password?": requests an hour, per email address and per client address.
DSR_PASSWORD_RESET_LIMIT = env.int("DSR_PASSWORD_RESET_LIMIT", default=5)
# The service's own address, for the links in emails (no trailing slash).
DSR_SITE_URL = env.str("DSR_SITE_URL", default="http://127.0.0.1:8000")

REST_FRAMEWORK = {
    # API clients send a bearer token; the browser's session still reads the returns endpoints.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "registers.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["registers.api.throttling.ApiClientRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG and not PRODUCTION else []),
    "DEFAULT_PARSER_CLASSES": ["registers.api.parsers.LimitedJSONParser"],
    "EXCEPTION_HANDLER": "registers.api.errors.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "registers.api.schema.ProblemAutoSchema",
}
# Deepest nesting of arrays and objects an API request body may have (deeper is a 400).
DSR_API_MAX_JSON_DEPTH = env.int("DSR_API_MAX_JSON_DEPTH", default=20)
# Request bodies (forms and API alike) are limited by Django's DATA_UPLOAD_MAX_MEMORY_SIZE.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DSR_MAX_BODY_BYTES", default=2_621_440)
# Requests per API client (DRF rate: N/second, minute, hour or day).
DSR_API_RATE = env.str("DSR_API_RATE", default="600/min")
# How long an API POST's Idempotency-Key and its answer are kept (registers/api/idempotency.py).
DSR_IDEMPOTENCY_KEY_HOURS = env.int("DSR_IDEMPOTENCY_KEY_HOURS", default=24)

SPECTACULAR_SETTINGS = {
    "TITLE": "Dynamic Support Register API",
    "DESCRIPTION": (
        "For an Integration Authority's own case-management system: read and write its register "
        "with an API client's token. Errors are RFC 9457 problem details."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CategoryEnum": "registers.codes.Category",
        "UrgentReasonEnum": "registers.codes.UrgentReason",
        "RiskRatingEnum": "registers.codes.RiskRating",
        "ChangeKindEnum": "registers.codes.ChangeKind",
        "ReturnStatusEnum": "reporting.models.ReturnStatus",
        "ApiScopeEnum": "accounts.models.ApiScope",
        "LeavingReasonEnum": "registers.codes.LeavingReason",
        # What a client may give as the reason someone leaves (a transfer is its own request).
        "LeaveReasonEnum": "registers.api.leaving.LEAVING_REASONS",
        "TransferStatusEnum": "registers.codes.TransferStatus",
        # The change feed's kinds (GET /api/v1/changes/), not a history entry's.
        "PersonChangeKindEnum": "registers.models.PersonChangeKind",
    },
    "SERVERS": [{"url": DSR_SITE_URL, "description": "This service"}],
    "CONTACT": {
        "name": "Dynamic Support Register service desk",
        "email": env.str("DSR_API_CONTACT_EMAIL", default="dsr-support@example.scot"),
        "url": f"{DSR_SITE_URL}/help/",
    },
}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TASK_ACKS_LATE = True
# Two queues (dsr/celery.py routes tasks to them): interactive work a person waits for (one
# authority's files and returns, a profile PDF) and heavy work (national builds, scheduled
# snapshots of every authority, reminders, retention). Each has its own workers, so a lead's PDF is
# never held up behind a national build (docs/operations.md, "Queues and workers").
DSR_QUEUE_INTERACTIVE = env.str("DSR_QUEUE_INTERACTIVE", default="interactive")
DSR_QUEUE_HEAVY = env.str("DSR_QUEUE_HEAVY", default="heavy")
CELERY_TASK_DEFAULT_QUEUE = DSR_QUEUE_INTERACTIVE
CELERY_TASK_ROUTES = ("dsr.celery.route_task",)
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = TIME_ZONE
# The worker heartbeat task and Celery's signal handlers (dsr/telemetry.py); the worker keeps the
# service's JSON log format instead of its own.
CELERY_IMPORTS = ("dsr.tasks",)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A report job still queued this long after it was queued lost its task: it is marked failed, with
# the reason, and can be retried or cancelled from its page.
DSR_JOB_QUEUED_LIMIT_SECONDS = env.int("DSR_JOB_QUEUED_LIMIT_SECONDS", default=600)
# The longest a build may run (Celery's hard time limit); a running build writes a heartbeat every
# DSR_JOB_HEARTBEAT_SECONDS, and one unheard from for DSR_JOB_RUNNING_LIMIT_SECONDS lost its worker
# (killed whole, machine lost): it is marked failed, with the reason, and can be retried.
DSR_JOB_TIME_LIMIT_SECONDS = env.int("DSR_JOB_TIME_LIMIT_SECONDS", default=1800)
DSR_JOB_HEARTBEAT_SECONDS = env.int("DSR_JOB_HEARTBEAT_SECONDS", default=30)
DSR_JOB_RUNNING_LIMIT_SECONDS = env.int("DSR_JOB_RUNNING_LIMIT_SECONDS", default=300)
CELERY_TASK_TIME_LIMIT = DSR_JOB_TIME_LIMIT_SECONDS
# A message taken by a worker that dies is delivered again after the visibility timeout: longer
# than the longest build, so a build still running is never handed to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": DSR_JOB_TIME_LIMIT_SECONDS + 600,
    "socket_timeout": DSR_REDIS_SOCKET_TIMEOUT,
    "socket_connect_timeout": DSR_REDIS_SOCKET_TIMEOUT,
}
CELERY_REDIS_SOCKET_TIMEOUT = DSR_REDIS_SOCKET_TIMEOUT
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = DSR_REDIS_SOCKET_TIMEOUT
CELERY_BROKER_CONNECTION_TIMEOUT = DSR_REDIS_SOCKET_TIMEOUT
# Queueing a task with the broker away gives up after about a second (the job is then marked
# failed with the reason, reporting.services._enqueue) instead of holding the request.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# Readiness wants a worker heard from within this many seconds (the beat asks every minute).
DSR_WORKER_HEARTBEAT_LIMIT_SECONDS = env.int("DSR_WORKER_HEARTBEAT_LIMIT_SECONDS", default=180)
# /metrics answers only a bearer token equal to this; unset, it answers no one (404).
DSR_METRICS_TOKEN = env.str("DSR_METRICS_TOKEN", default="")
# Each morning: if yesterday was a census date, freeze every authority's snapshot.
CELERY_BEAT_SCHEDULE = {
    # Sent to each queue, so a worker of either keeps readiness's heartbeat fresh.
    "worker-heartbeat": {"task": "dsr.tasks.worker_heartbeat", "schedule": 60.0},
    "worker-heartbeat-heavy": {
        "task": "dsr.tasks.worker_heartbeat",
        "schedule": 60.0,
        "options": {"queue": DSR_QUEUE_HEAVY},
    },
    "census-snapshots": {
        "task": "reporting.tasks.take_due_census_snapshots",
        "schedule": crontab(hour=2, minute=15),
    },
    "retention-pseudonymise-leavers": {
        "task": "registers.tasks.pseudonymise_leavers",
        "schedule": crontab(hour=3, minute=30),
    },
    "expire-generated-files": {
        "task": "reporting.tasks.expire_generated_files",
        "schedule": crontab(minute=5),
    },
    # Report jobs that lost their task or their worker are marked failed (reporting.services).
    "fail-stuck-report-jobs": {
        "task": "reporting.tasks.fail_stuck_jobs",
        "schedule": crontab(minute="*/5"),
    },
    # The register's counts, kept by the database as rows to add up, folded (registers/0022).
    "compact-register-counts": {
        "task": "registers.tasks.compact_register_counts",
        "schedule": crontab(minute="*/15"),
    },
    # API idempotency keys (and the answers kept with them) past DSR_IDEMPOTENCY_KEY_HOURS.
    "purge-idempotency-keys": {
        "task": "registers.tasks.purge_idempotency_keys",
        "schedule": crontab(minute=25),
    },
    "discard-unconfirmed-imports": {
        "task": "registers.tasks.discard_unconfirmed_imports",
        "schedule": crontab(hour=3, minute=45),
    },
    # Reminders by email (registers/reminders.py): idempotent, so a repeated run sends nothing.
    "reminder-notices": {
        "task": "registers.tasks.send_reminder_notices",
        "schedule": crontab(hour=7, minute=5),
    },
    "weekly-review-digests": {
        "task": "registers.tasks.send_weekly_digests",
        "schedule": crontab(hour=7, minute=15, day_of_week=1),
    },
}
# Reminders: the digest covers reviews due in the next DSR_DIGEST_DAYS days; leads are told of a
# return due within DSR_RETURN_DUE_SOON_DAYS days.
DSR_DIGEST_DAYS = env.int("DSR_DIGEST_DAYS", default=14)
DSR_RETURN_DUE_SOON_DAYS = env.int("DSR_RETURN_DUE_SOON_DAYS", default=7)

# The register's own rules that a later decision may revise (domain.md, "proposed").
DSR_REVIEW_CADENCE_DAYS = {
    "urgent": env.int("DSR_REVIEW_DAYS_URGENT", default=28),
    "enhanced_monitoring": env.int("DSR_REVIEW_DAYS_ENHANCED", default=91),
    "appropriate_out_of_area": env.int("DSR_REVIEW_DAYS_APPROPRIATE_OOA", default=182),
}
DSR_LONG_HOSPITAL_STAY_DAYS = env.int("DSR_LONG_HOSPITAL_STAY_DAYS", default=365)
DSR_PAGE_SIZE = env.int("DSR_PAGE_SIZE", default=50)
# The change feed (GET /api/v1/changes/): changes per answer, by default and at most.
DSR_CHANGE_FEED_PAGE_SIZE = env.int("DSR_CHANGE_FEED_PAGE_SIZE", default=100)
DSR_CHANGE_FEED_MAX_LIMIT = env.int("DSR_CHANGE_FEED_MAX_LIMIT", default=1000)
# Webhooks (registers/webhooks.py): seconds to wait for an answer, attempts per delivery, and the
# first wait before a retry (doubling after each failure: 30 s, 1, 2, 4, 8 min by default).
DSR_WEBHOOK_TIMEOUT_SECONDS = env.float("DSR_WEBHOOK_TIMEOUT_SECONDS", default=5.0)
DSR_WEBHOOK_MAX_ATTEMPTS = env.int("DSR_WEBHOOK_MAX_ATTEMPTS", default=6)
DSR_WEBHOOK_BACKOFF_SECONDS = env.int("DSR_WEBHOOK_BACKOFF_SECONDS", default=30)
# Seconds before looking again for a change the feed still holds back behind a running writer.
DSR_WEBHOOK_RECHECK_SECONDS = env.int("DSR_WEBHOOK_RECHECK_SECONDS", default=2)
# Processes rendering one long PDF's pieces at the same time (reporting/builders/pdf.py); 0: four,
# or one on a machine of one processor.
DSR_PDF_PROCESSES = env.int("DSR_PDF_PROCESSES", default=0)
# Plain http://127.0.0.1 addresses for webhooks: development and tests only.
DSR_WEBHOOK_ALLOW_LOCAL_HTTP = env.bool("DSR_WEBHOOK_ALLOW_LOCAL_HTTP", default=False)
# Certificate authorities trusted for webhook receivers (a PEM file); empty: the usual public ones
# (certifi's, as requests uses).
DSR_WEBHOOK_CA_BUNDLE = env.str("DSR_WEBHOOK_CA_BUNDLE", default="")
# Register import: largest file accepted and most people in one file.
DSR_IMPORT_MAX_BYTES = env.int("DSR_IMPORT_MAX_BYTES", default=5 * 1024 * 1024)
DSR_IMPORT_MAX_ROWS = env.int("DSR_IMPORT_MAX_ROWS", default=1000)
# Data protection: people who left the register more than this many years ago are pseudonymised
# by the daily retention task.
DSR_RETENTION_YEARS = env.int("DSR_RETENTION_YEARS", default=7)
# Generated files that hold personal data (person profiles, authority returns) are deleted this
# many days after they are built (hourly task); national files, aggregates only, are kept.
DSR_FILE_RETENTION_DAYS = env.int("DSR_FILE_RETENTION_DAYS", default=7)
# The lead can erase an entry added in error (wrong person, duplicate) for this many days after it
# was made, unless it has been counted in a submitted return.
DSR_ERASURE_WINDOW_DAYS = env.int("DSR_ERASURE_WINDOW_DAYS", default=30)
# Returns: deadline after the census date, and the disclosure-control threshold (counts from 1 to
# threshold-1 are suppressed below Scotland level).
DSR_RETURN_DEADLINE_DAYS = env.int("DSR_RETURN_DEADLINE_DAYS", default=28)
DSR_DISCLOSURE_THRESHOLD = env.int("DSR_DISCLOSURE_THRESHOLD", default=5)
# A suppressed small count must be left with at least this many possible values (docs/reporting.md).
DSR_DISCLOSURE_PROTECTION_WIDTH = env.int(
    "DSR_DISCLOSURE_PROTECTION_WIDTH", default=DSR_DISCLOSURE_THRESHOLD
)

# Login hardening (docs/security.md, "Signing in").
# Sessions end after DSR_SESSION_SECONDS without a request (each request renews the expiry; an
# unchanged session renewed in the last minute is not written again: dsr/sessions.py).
SESSION_ENGINE = "dsr.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("DSR_SESSION_SECONDS", default=60 * 30)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Lockout (django-axes, database handler): DSR_LOGIN_FAILURE_LIMIT failed sign-ins for one email
# address lock it for DSR_LOGIN_LOCKOUT_MINUTES; a successful sign-in clears the count.
AXES_ENABLED = env.bool("DSR_LOGIN_LOCKOUT", default=True)
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("DSR_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("DSR_LOGIN_LOCKOUT_MINUTES", default=30))
# By email address alone, from wherever it is tried: guessing one account from many addresses
# gains nothing, and staff behind one council or NHS network address do not lock each other out.
# (axes.W006 warns about rotating user agents or cookies, which this lockout does not key on.)
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "registers.audit.client_ip_of"
AXES_VERBOSE = False
# Proxies in front of the service that append to X-Forwarded-For (0: use REMOTE_ADDR).
DSR_TRUSTED_PROXY_COUNT = env.int("DSR_TRUSTED_PROXY_COUNT", default=0)
# Second factor (django-otp, TOTP): these roles must use it ("lead", "national_analyst",
# "practitioner", "viewer"); anyone else may set it up, and once set up it is asked for.
DSR_MFA_REQUIRED_ROLES = env.list("DSR_MFA_REQUIRED_ROLES", default=["lead", "national_analyst"])
OTP_TOTP_ISSUER = "Dynamic Support Register"
# Signing in with an organisation's account (OpenID Connect; docs/sign-in.md). Providers are rows
# (`manage.py identity_provider`); their client secrets are environment variables DSR_OIDC_SECRET_*.
DSR_OIDC_HTTP_TIMEOUT = env.float("DSR_OIDC_HTTP_TIMEOUT", default=5.0)
DSR_OIDC_DISCOVERY_SECONDS = env.int("DSR_OIDC_DISCOVERY_SECONDS", default=3600)
# Clock difference tolerated when checking an ID token's expiry and issue time.
DSR_OIDC_CLOCK_SKEW_SECONDS = env.int("DSR_OIDC_CLOCK_SKEW_SECONDS", default=60)
# Content-Security-Policy (django-csp 4): nothing inline, nothing from another site.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_COOKIE_HTTPONLY = True

# One JSON object a line with the request id (dsr/logs.py); DSR_LOG_FORMAT=text for reading by eye.
# /healthz, /readyz and /metrics are answered over plain HTTP too (probes inside the network).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "dsr.logs.ContextFilter"}},
    "formatters": {
        "json": {"()": "dsr.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            "formatter": env.str("DSR_LOG_FORMAT", default="json"),
        }
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    # WeasyPrint and fontTools narrate every PDF at INFO.
    "loggers": {
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # Django's own console handler (with DEBUG on) would print its lines a second time, as text.
        "django": {"handlers": [], "level": "INFO"},
        # django-axes narrates every sign-in at INFO; lockouts are WARNING.
        "axes": {"level": "WARNING"},
        # Personal data never reaches the logs, whatever DJANGO_LOG_LEVEL says: at DEBUG these
        # print a template's whole context (people's names included) and every query's values.
        "django.template": {"level": "INFO"},
        "django.db.backends": {"level": "INFO"},
    },
}
