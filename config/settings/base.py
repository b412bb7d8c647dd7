"""Settings shared by every environment. Environment-specific files import from here."""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("KETACLINIC_VAR_DIR", BASE_DIR / "var"))

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "servestatic",
    "django.contrib.staticfiles",
    "django.tasks",
    "django_htmx",
    # ninja as an app: its API docs page uses the packaged Swagger UI files, not a CDN (closed network, CSP).
    "ninja",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "rules",
    "simple_history",
    "django_tasks_db",
    "ketaclinic.core",
    "ketaclinic.accounts",
    "ketaclinic.audit",
    "ketaclinic.protocols",
    "ketaclinic.patients",
    "ketaclinic.screening",
    "ketaclinic.measures",
    "ketaclinic.plans",
    "ketaclinic.scheduling",
    "ketaclinic.inventory",
    "ketaclinic.dosing",
    "ketaclinic.infusions",
    "ketaclinic.notes",
    "ketaclinic.billing",
    "ketaclinic.interop.hl7",
    "ketaclinic.interop.fhir",
    "ketaclinic.portal",
    "ketaclinic.analytics",
    "ketaclinic.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    # Below the static files: every other response is marked no-store (patient data is never cached).
    "ketaclinic.accounts.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # A protocol entry is read once per request, whatever asks for it.
    "ketaclinic.protocols.middleware.ProtocolReadingsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "ketaclinic.accounts.middleware.IdleTimeoutMiddleware",
    "ketaclinic.accounts.middleware.RequireSecondFactorMiddleware",
    "ketaclinic.accounts.middleware.ClinicTimeZoneMiddleware",
    "ketaclinic.audit.middleware.RequestContextMiddleware",
    "ketaclinic.core.middleware.DomainErrorMiddleware",
    "ketaclinic.core.middleware.RefuseUnstorableInputMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # axes last: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
# Django's admin (/django-admin/, second factor required) is served only where this is on: development and
# tests. Production leaves it off: the clinic's own pages are where records are read, and audited.
KETACLINIC_DJANGO_ADMIN = False
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ketaclinic.accounts.context_processors.navigation",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{VAR_DIR / 'ketaclinic.sqlite3'}",
        conn_max_age=0,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers and one writer work at once; IMMEDIATE takes the write lock at BEGIN so two writers
    # queue instead of failing half-way; the busy timeout is how long they queue.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        # recursive_triggers: an INSERT OR REPLACE's implicit delete then meets the append-only DELETE
        # triggers too (ketaclinic/core/db.py).
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA recursive_triggers=ON;",
    }


def _chain_key() -> str:
    """The key of the ledger and audit hash chains: never in the database (ketaclinic/core/chains.py)."""
    if key := os.environ.get("KETACLINIC_CHAIN_KEY", ""):
        return key
    if path := os.environ.get("KETACLINIC_CHAIN_KEY_FILE", ""):
        return Path(path).read_text().strip()
    return ""


KETACLINIC_CHAIN_KEY = _chain_key()
# Signed daily checkpoints of the chains' heads, outside the database: put it on storage the database's
# administrators cannot rewrite (docs/deployment.md).
KETACLINIC_CHECKPOINT_DIR = Path(os.environ.get("KETACLINIC_CHECKPOINT_DIR", VAR_DIR / "checkpoints"))
# Outside records (PDFs, images) uploaded to patients' charts: files outside the database, named at random.
KETACLINIC_DOCUMENTS_DIR = Path(os.environ.get("KETACLINIC_DOCUMENTS_DIR", VAR_DIR / "documents"))
# The ClamAV daemon that checks every uploaded document (INSTREAM): a Unix socket's path
# (/run/clamav/clamd.ctl) or host:port. Empty: no scanner, which the upload page says plainly.
KETACLINIC_CLAMD_ADDRESS = os.environ.get("KETACLINIC_CLAMD_ADDRESS", "")
KETACLINIC_CLAMD_TIMEOUT_S = float(os.environ.get("KETACLINIC_CLAMD_TIMEOUT_S", "60"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    # axes first, so a locked-out account is refused before its password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Sign-in safety: five failures lock the username for 30 minutes, whatever address they come from.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.5
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

OTP_TOTP_ISSUER = "ketaclinic"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# A session row lives at most one working shift (the longest idle limit a clinic may choose, 480 minutes);
# sign-in and each noted activity shorten it to the clinic's idle limit from then.
SESSION_COOKIE_AGE = 8 * 60 * 60
CSRF_COOKIE_HTTPONLY = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # uPlot from npm (`npm ci` fills node_modules/; `make install` runs it): never copied into the repo.
    ("vendor/uplot", BASE_DIR / "node_modules" / "uplot" / "dist"),
]

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
    }
}
# A task claimed by a worker that then died stays RUNNING; `manage.py requeue_lost_tasks` (the scheduler runs
# it with the sweeps) makes it READY again once it has run this long. Our tasks take ids and are idempotent,
# so running one again is safe; none runs for more than a few minutes (a virus rescan is the longest).
KETACLINIC_TASK_LOST_AFTER_MIN = float(os.environ.get("KETACLINIC_TASK_LOST_AFTER_MIN", "30"))

# Links in e-mails (set-password, intake, phone scales, reminders) start with this; `make run` sets it from
# HOST and PORT, a deployment to its public address.
KETACLINIC_BASE_URL = os.environ.get("KETACLINIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# The HL7 v2 listener (`manage.py hl7_listen`) listens here by default; outbound HL7 (scale results, patient
# registrations) goes to KETACLINIC_HL7_DOWNSTREAM, host:port, when it is set.
KETACLINIC_HL7_PORT = int(os.environ.get("KETACLINIC_HL7_PORT", "2575"))
KETACLINIC_HL7_DOWNSTREAM = os.environ.get("KETACLINIC_HL7_DOWNSTREAM", "")

MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = "ketaclinic <no-reply@ketaclinic.invalid>"

from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    # Django's own loggers print to their console handler when DEBUG is on and then pass the line on to the
    # root's: each line was printed twice. They print through the root alone.
    "loggers": {"django": {"handlers": [], "level": "INFO"}, "axes": {"level": "WARNING"}},
}

# Lockout is per username, not per address: a clinic's staff share one address, and locking it would lock
# out the whole clinic when one person mistypes. Attackers rotating usernames are slowed by the same limit.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
