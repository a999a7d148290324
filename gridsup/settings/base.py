"""Settings shared by every environment. Values that differ per machine come from the environment."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("GRIDSUP_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "mptt",
    "axes",
    "core",
    "grids",
    "inspections",
    "cases",
    "assessment",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.PagesMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.PagesCSPMiddleware",
    # Axes must be last: it turns a lockout raised during authentication into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "gridsup.urls"
WSGI_APPLICATION = "gridsup.wsgi.application"

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
                "csp.context_processors.nonce",
                "core.context_processors.inbox",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'gridsup.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded database serves the web process and the Celery worker at once.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
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
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login lockout: five failures for the same username from the same address lock that pair
# for a finite cool-off; other users and other addresses are not affected.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "core.lockout.lockout_response"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

SECRET_KEY = os.environ.get("SECRET_KEY", "")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "core.api.throttles.ClientRateThrottle",
    ],
    # Counted in the shared cache (CACHES below), so a rate holds whatever the number of
    # workers. "intake" is the machine clients' case intake (the platform's contracted rate,
    # at least 200 cases a second); "machine" their other requests.
    "DEFAULT_THROTTLE_RATES": {
        "anon": "60/minute",
        "user": "1200/minute",
        "machine": os.environ.get("THROTTLE_MACHINE_RATE", "6000/minute"),
        "intake": os.environ.get("THROTTLE_INTAKE_RATE", "30000/minute"),
        "token": "20/minute",
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "GridSup API",
    "DESCRIPTION": "Environmental grid supervision: grids, sources, patrols, cases, assessment.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Several models have a "kind" or a "status": name each choice set after its model.
    "ENUM_NAME_OVERRIDES": {
        "GridKindEnum": "grids.models.GridKind",
        "SourceKindEnum": "inspections.models.SourceKind",
        "PatrolKindEnum": "inspections.models.Patrol.Kind",
        "PatrolAlarmKindEnum": "inspections.models.PatrolAlarm.Kind",
        "CasePhotoKindEnum": "cases.models.CasePhoto.Kind",
        "SourceStatusEnum": "inspections.models.PollutionSource.Status",
        "PatrolAlarmStatusEnum": "inspections.models.PatrolAlarm.Status",
        "CaseStatusEnum": "cases.models.Case.Status",
        "RuleKindEnum": "assessment.models.Rule.Kind",
        "JointMeetingKindEnum": "assessment.models.JointMeeting.Kind",
        "SupervisionKindEnum": "assessment.models.Supervision.Kind",
        "PerformancePeriodKindEnum": "assessment.models.PerformancePeriod.Kind",
    },
}

# API bearer tokens: people get short-lived ones, machine clients an hour.
API_TOKEN_TTL = timedelta(hours=int(os.environ.get("API_TOKEN_TTL_HOURS", "8")))
API_TOKEN_TTL_MACHINE = timedelta(hours=1)

# The cache holds the API's request counts (core.api.throttles): Redis when REDIS_URL is set,
# so that every worker process counts in the same place; otherwise each process's memory,
# which suits one process (development, tests) only.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "gridsup",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Categories, case settings and the calendar's office overrides are read once per process and
# kept this many seconds (cases.selectors); a save clears them in the saving process at once.
CASES_REFERENCE_CACHE_SECONDS = int(os.environ.get("CASES_REFERENCE_CACHE_SECONDS", "30"))

# Celery: Redis when REDIS_URL is set, otherwise kombu's filesystem transport, which needs no
# server, so the worker and beat really run on a fresh machine.
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
else:
    _broker_dir = VAR_DIR / "broker"
    # kombu's filesystem transport does not create its folders itself.
    for _folder in ("queue", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
# A deadline sweep that misses its minute is simply superseded by the next one.
CELERY_TASK_TIME_LIMIT = 300
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "api-tokens-purge": {
        "task": "core.tasks.api_tokens_purge",
        "schedule": crontab(minute=17),
    },
    "patrol-alarms-sweep": {
        "task": "inspections.tasks.patrol_alarms_sweep",
        "schedule": crontab(minute="*/30"),
    },
    "case-deadlines-sweep": {
        "task": "cases.tasks.case_deadlines_sweep",
        "schedule": 60.0,
    },
    "idempotency-records-purge": {
        "task": "cases.tasks.idempotency_records_purge",
        "schedule": crontab(minute=23),
    },
    "callbacks-deliver": {
        "task": "cases.tasks.callbacks_deliver",
        "schedule": 30.0,
    },
    "half-year-reports-remind": {
        "task": "assessment.tasks.half_year_reports_remind",
        "schedule": crontab(minute=10, hour=8),
    },
    "assessment-run-previous-year": {
        "task": "assessment.tasks.assessment_run_previous_year",
        "schedule": crontab(minute=30, hour=2, day_of_month=15, month_of_year="1-3"),
    },
    "grid-health-snapshot": {
        "task": "grids.tasks.grid_health_snapshot",
        "schedule": crontab(minute=5, hour=6),
    },
}

# Content-security policy: everything from this server only (no CDN on a government intranet).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "gridsup@localhost")

DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "gridsup-demo-2026")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Notifications go to the in-app inbox; with NOTIFY_BY_EMAIL=true a copy is e-mailed too.
NOTIFY_BY_EMAIL = env_bool("NOTIFY_BY_EMAIL", False)

# Uploaded photos (patrols, cases): size and count limits.
PHOTO_MAX_BYTES = int(os.environ.get("PHOTO_MAX_BYTES", str(10 * 1024 * 1024)))
PHOTO_MAX_COUNT = int(os.environ.get("PHOTO_MAX_COUNT", "6"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
