"""ProPortrait settings. Every value comes from the environment (see README, "Configuration").

There is no "local settings" file and no insecure default: the secret key and the master
encryption key must be given, except that `scripts/run_embedded.py` generates and keeps
both for the one-machine embedded default.
"""

from __future__ import annotations

import contextlib
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from proportrait.env import database_from_url, env_bool, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PROPORTRAIT_VAR_DIR", str(BASE_DIR / "var")))
# Local state of the embedded default (SQLite file, ciphertext store, broker folder, mail files
# with codes and links): only the service's own user may read it. Every file and folder this
# process creates is private (umask 077: files 0600, folders 0700), whatever the shell's umask.
os.umask(0o077)
VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
# Tighten a folder an earlier version created 0755; one that is not ours (a mounted volume)
# keeps the mode its owner set.
with contextlib.suppress(PermissionError):
    VAR_DIR.chmod(0o700)

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set; see README 'Configuration'.")

# Master keys wrap the per-object data keys: "id:base64(32 bytes),id2:..."; the first is current,
# the others stay readable until `manage.py rotate_master_key` has re-wrapped every data key.
PROPORTRAIT_MASTER_KEYS = env_secret("PROPORTRAIT_MASTER_KEYS")
if not PROPORTRAIT_MASTER_KEYS:
    raise ImproperlyConfigured(
        "PROPORTRAIT_MASTER_KEYS (or PROPORTRAIT_MASTER_KEYS_FILE) must be set; see README 'Configuration'."
    )

# The audit log is keyed and signed with secrets that never enter the database, so that someone
# who can write to it cannot recompute the chain ("id:base64(32 bytes)[,older-id:key...]", the
# first is current; keep older ones while events or checkpoints made with them exist).
PROPORTRAIT_AUDIT_HMAC_KEYS = env_secret("PROPORTRAIT_AUDIT_HMAC_KEYS")
PROPORTRAIT_AUDIT_SIGNING_KEYS = env_secret("PROPORTRAIT_AUDIT_SIGNING_KEYS")  # Ed25519 private seeds
if not (PROPORTRAIT_AUDIT_HMAC_KEYS and PROPORTRAIT_AUDIT_SIGNING_KEYS):
    raise ImproperlyConfigured(
        "PROPORTRAIT_AUDIT_HMAC_KEYS and PROPORTRAIT_AUDIT_SIGNING_KEYS (or their _FILE forms) must be set; "
        "see README 'Configuration'."
    )
# Public keys of retired signing keys ("id:base64(32 bytes)"), so old checkpoints still verify
# after the private key is destroyed.
PROPORTRAIT_AUDIT_RETIRED_PUBLIC_KEYS = env_str("PROPORTRAIT_AUDIT_RETIRED_PUBLIC_KEYS")
PROPORTRAIT_AUDIT_CHECKPOINT_MINUTES = env_int("PROPORTRAIT_AUDIT_CHECKPOINT_MINUTES", 60)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "rest_framework",
    "drf_spectacular",
    "accounts",
    "compliance",
    "portraits",
]

MIDDLEWARE = [
    # Outermost, so that static files answered by WhiteNoise carry the policy too.
    "proportrait.middleware.ContentSecurityPolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "proportrait.middleware.CommonMiddleware",  # Django's, without slash redirects under /api/
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Innermost: a database, storage or broker outage in a view becomes a clean 503.
    "proportrait.outage.ServiceUnavailableMiddleware",
]

ROOT_URLCONF = "proportrait.urls"
WSGI_APPLICATION = "proportrait.wsgi.application"

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

DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'proportrait.sqlite3'}"), BASE_DIR
    ),
}
if str(DATABASES["default"]["ENGINE"]).endswith("sqlite3"):
    # WAL: readers never wait for the writer, and one fsync per commit at most (synchronous=NORMAL
    # is durable across application crashes; a power loss can lose the last commits, never
    # corrupt the file). Connections stay open: opening one re-runs these pragmas.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"]["init_command"] = (  # type: ignore[index]
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
    DATABASES["default"]["CONN_MAX_AGE"] = None
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if env_str("PROPORTRAIT_TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": env_str("PROPORTRAIT_TEST_DATABASE_NAME")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "portraits:landing"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "proportrait" / "static"]

# --- Storage: ciphertext only. Local folder by default, S3-compatible when a bucket is set.
PROPORTRAIT_STORAGE_DIR = Path(env_str("PROPORTRAIT_STORAGE_DIR", str(VAR_DIR / "storage")))
AWS_STORAGE_BUCKET_NAME = env_str("PROPORTRAIT_S3_BUCKET")
if AWS_STORAGE_BUCKET_NAME:
    _private_storage: dict[str, object] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env_str("PROPORTRAIT_S3_ENDPOINT_URL") or None,
            "region_name": env_str("PROPORTRAIT_S3_REGION") or None,
            "access_key": env_secret("PROPORTRAIT_S3_ACCESS_KEY_ID") or None,
            "secret_key": env_secret("PROPORTRAIT_S3_SECRET_ACCESS_KEY") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": env_int("PROPORTRAIT_SIGNED_URL_SECONDS", 300),
            "file_overwrite": False,
        },
    }
else:
    _private_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PROPORTRAIT_STORAGE_DIR), "base_url": None},
    }
STORAGES = {
    "default": _private_storage,
    "private": _private_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Uploads: memory only, never a temporary file; hard caps.
PROPORTRAIT_MAX_UPLOAD_BYTES = env_int("PROPORTRAIT_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
PROPORTRAIT_MAX_IMAGE_PIXELS = env_int("PROPORTRAIT_MAX_IMAGE_PIXELS", 50_000_000)
FILE_UPLOAD_HANDLERS = ["portraits.uploads.CappedMemoryUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = PROPORTRAIT_MAX_UPLOAD_BYTES + 1
# Django's FileSystemStorage chmods what it saves (0644 by default): stored objects stay private.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # form fields other than files
DATA_UPLOAD_MAX_NUMBER_FILES = 1  # one photo (or one CSV) per request

# --- Jobs, results, retention (the public retention page reads these same values).
PROPORTRAIT_BACKEND = env_str("PROPORTRAIT_BACKEND", "studio")
PROPORTRAIT_DIFFUSION_MODEL = env_str("PROPORTRAIT_DIFFUSION_MODEL")
PROPORTRAIT_PORTRAITS_PER_JOB = env_int("PROPORTRAIT_PORTRAITS_PER_JOB", 4)
PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES = env_int("PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES", 15)
# The dead-man round (stale originals, orphaned objects, the outbox relay) runs this often in a
# timer inside every web and worker process, without the broker; originals are destroyed once
# older than the limit minus this period, so none outlives the limit.
PROPORTRAIT_SWEEP_SECONDS = env_int("PROPORTRAIT_SWEEP_SECONDS", 30)
PROPORTRAIT_DEADMAN_TIMER = env_bool("PROPORTRAIT_DEADMAN_TIMER", True)
if not 0 <= PROPORTRAIT_SWEEP_SECONDS < PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES * 60 / 2:
    raise ImproperlyConfigured("PROPORTRAIT_SWEEP_SECONDS must be under half the dead-man limit.")
# A job whose task has not started this long after it was (re)published is published again.
PROPORTRAIT_REPUBLISH_SECONDS = env_int("PROPORTRAIT_REPUBLISH_SECONDS", 60)
# First delay after a transient fault; doubles per attempt (capped at 2 minutes), within the limit.
PROPORTRAIT_RETRY_BACKOFF_SECONDS = env_int("PROPORTRAIT_RETRY_BACKOFF_SECONDS", 5)
# Embedded default: uploads are refused (503 `disk_space_low`) when a local data folder has less.
PROPORTRAIT_MIN_FREE_DISK_MB = env_int("PROPORTRAIT_MIN_FREE_DISK_MB", 200)
# The queue generation tasks go to; whichever worker consumes it decides (and records) the backend.
PROPORTRAIT_GENERATION_QUEUE = env_str("PROPORTRAIT_GENERATION_QUEUE", "gpu")
PROPORTRAIT_ANONYMOUS_RETENTION_HOURS = env_int("PROPORTRAIT_ANONYMOUS_RETENTION_HOURS", 24)
PROPORTRAIT_ACCOUNT_RETENTION_DAYS = env_int("PROPORTRAIT_ACCOUNT_RETENTION_DAYS", 90)
# An erased job leaves an emptied record (id, status, dates, token hash) this long.
PROPORTRAIT_ERASED_JOB_RECORD_DAYS = env_int("PROPORTRAIT_ERASED_JOB_RECORD_DAYS", 30)
PROPORTRAIT_SIGNED_URL_SECONDS = env_int("PROPORTRAIT_SIGNED_URL_SECONDS", 300)
PROPORTRAIT_UPLOADS_PER_HOUR = env_int("PROPORTRAIT_UPLOADS_PER_HOUR", 20)
PROPORTRAIT_JOB_GATEWAY = "portraits.gateway.DjangoJobGateway"

# --- Payments (Stripe). With no keys (the embedded default) everything is free and says so.
# Switched on only when both the secret key and the webhook signing secret are given.
STRIPE_SECRET_KEY = env_secret("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = env_secret("STRIPE_WEBHOOK_SECRET")
# Only for tests against a local Stripe-compatible server; never set in production.
STRIPE_API_BASE = env_str("STRIPE_API_BASE")
PROPORTRAIT_PAYMENTS_ENABLED = bool(STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET)
# Prices are data: amounts in the currency's minor unit (cents), shown on the pricing page.
PROPORTRAIT_CURRENCY = env_str("PROPORTRAIT_CURRENCY", "eur").lower()
PROPORTRAIT_FULL_RESOLUTION_PRICE_CENTS = env_int("PROPORTRAIT_FULL_RESOLUTION_PRICE_CENTS", 900)
PROPORTRAIT_TEAM_SEAT_PRICE_CENTS_PER_MONTH = env_int("PROPORTRAIT_TEAM_SEAT_PRICE_CENTS_PER_MONTH", 1200)
# The Stripe Price (or legacy Plan) id of one team seat per month; its amount must match the above.
STRIPE_TEAM_SEAT_PRICE_ID = env_str("STRIPE_TEAM_SEAT_PRICE_ID")
# Let Stripe Tax compute VAT/sales tax on Checkout (needs Stripe Tax set up in the dashboard).
STRIPE_AUTOMATIC_TAX = env_bool("STRIPE_AUTOMATIC_TAX", False)
# Purchase records are accounting records: tax law asks us to keep them (UK: 6 years, Germany:
# 10 years under AO 147 / HGB 257). The daily housekeeping deletes them after this many years.
PROPORTRAIT_PURCHASE_RECORD_RETENTION_YEARS = env_int("PROPORTRAIT_PURCHASE_RECORD_RETENTION_YEARS", 10)
# Checkout attempts never paid are not accounting records: deleted after this many days.
PROPORTRAIT_UNPAID_PURCHASE_RETENTION_DAYS = env_int("PROPORTRAIT_UNPAID_PURCHASE_RETENTION_DAYS", 7)

# --- Cache (rate limits, progress): in-process by default, Redis when REDIS_URL is set.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Volatile key store: an original's data key lives only here, never in the database, for at
# most the dead-man limit. Redis without persistence in production (checked on first use); on
# the embedded default a key-holder process answering on a Unix socket under var/ (mode 0600).
PROPORTRAIT_KEYSTORE_URL = env_str("PROPORTRAIT_KEYSTORE_URL", REDIS_URL)
PROPORTRAIT_KEYSTORE_SOCKET = Path(
    env_str("PROPORTRAIT_KEYSTORE_SOCKET", str(VAR_DIR / "keyholder" / "keys.sock"))
)

# --- Celery. The embedded default uses kombu's filesystem transport: no broker server.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://localhost/")
CELERY_BROKER_DIR = Path(env_str("PROPORTRAIT_BROKER_DIR", str(VAR_DIR / "broker")))
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _folder in ("queue", "processed", "control", "quarantine"):
        (CELERY_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        # Unreadable messages (a 0-byte file after a full disk) are moved here, never re-read.
        "quarantine_folder": str(CELERY_BROKER_DIR / "quarantine"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        # An unreachable broker fails a publish within seconds; the outbox relay retries it.
        "socket_connect_timeout": 3,
        "socket_timeout": 10,
    }
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
# A worker lost before claiming lets the message go back to the queue; a job it had already
# claimed is not run twice (claim_job lets one worker win) and the sweeper ends it.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"gpu_worker.*": {"queue": PROPORTRAIT_GENERATION_QUEUE}}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "destroy-stale-originals": {
        "task": "portraits.destroy_stale_originals",
        "schedule": timedelta(seconds=max(PROPORTRAIT_SWEEP_SECONDS, 10)),
    },
    "purge-expired-results": {"task": "portraits.purge_expired_results", "schedule": timedelta(minutes=5)},
    "compliance-daily": {"task": "compliance.run_daily_housekeeping", "schedule": crontab(minute=7, hour=3)},
    "delete-expired-purchase-records": {
        "task": "portraits.delete_expired_purchase_records",
        "schedule": crontab(minute=17, hour=3),
    },
    "compliance-subprocessor-changes": {
        "task": "compliance.apply_subprocessor_changes",
        "schedule": crontab(minute=17),
    },
    "compliance-audit-checkpoint": {
        "task": "compliance.sign_audit_checkpoint",
        "schedule": timedelta(minutes=PROPORTRAIT_AUDIT_CHECKPOINT_MINUTES),
    },
}

# --- Accounts: log-in lock-out, verification links, invitations, team retention enforcement.
ACCOUNTS_LOGIN_MAX_FAILURES = env_int("ACCOUNTS_LOGIN_MAX_FAILURES", 5)
ACCOUNTS_LOGIN_WINDOW_MINUTES = env_int("ACCOUNTS_LOGIN_WINDOW_MINUTES", 15)
ACCOUNTS_LOCKOUT_MINUTES = env_int("ACCOUNTS_LOCKOUT_MINUTES", 15)
ACCOUNTS_LOGIN_ATTEMPTS_PER_IP = env_int("ACCOUNTS_LOGIN_ATTEMPTS_PER_IP", 50)
ACCOUNTS_EMAIL_VERIFICATION_DAYS = env_int("ACCOUNTS_EMAIL_VERIFICATION_DAYS", 3)
ACCOUNTS_INVITATION_DAYS = env_int("ACCOUNTS_INVITATION_DAYS", 14)
ACCOUNTS_BACKUP_CODES = 10
# Passkeys (WebAuthn) as a second factor beside the authenticator app. The relying party is
# SITE_URL's host and only SITE_URL's origin may use it (a passkey made for one site is useless
# to a look-alike: phishing-resistant). Never a first factor: passwordless log-in is off.
# Browsers allow WebAuthn only on https:// or http://localhost, never on an IP address: with any
# other SITE_URL (the embedded default's http://127.0.0.1:8000) passkeys are off and say why.
_site = urlsplit(SITE_URL)
PROPORTRAIT_PASSKEYS_ENABLED = _site.scheme == "https" or _site.hostname == "localhost"
OTP_WEBAUTHN_RP_ID = (_site.hostname or "localhost") if PROPORTRAIT_PASSKEYS_ENABLED else "localhost"
OTP_WEBAUTHN_RP_NAME = "ProPortrait"
OTP_WEBAUTHN_ALLOWED_ORIGINS = [f"{_site.scheme}://{_site.netloc}"] if PROPORTRAIT_PASSKEYS_ENABLED else []
SILENCED_SYSTEM_CHECKS = [] if PROPORTRAIT_PASSKEYS_ENABLED else ["otp_webauthn.E030"]
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
# Mail a visitor can make us send (sign-up, reset): per address from one network, and per network.
ACCOUNTS_MAILS_PER_ADDRESS_PER_NETWORK_PER_HOUR = env_int(
    "ACCOUNTS_MAILS_PER_ADDRESS_PER_NETWORK_PER_HOUR", 3
)
ACCOUNTS_MAIL_REQUESTS_PER_NETWORK_PER_HOUR = env_int("ACCOUNTS_MAIL_REQUESTS_PER_NETWORK_PER_HOUR", 20)
# Invitations, re-sends and reminders: per invitation or member a day, per organisation an hour.
ACCOUNTS_TEAM_MAILS_PER_PERSON_PER_DAY = env_int("ACCOUNTS_TEAM_MAILS_PER_PERSON_PER_DAY", 3)
ACCOUNTS_TEAM_MAILS_PER_ORGANISATION_PER_HOUR = env_int("ACCOUNTS_TEAM_MAILS_PER_ORGANISATION_PER_HOUR", 200)
PASSWORD_RESET_TIMEOUT = 60 * 60 * 2  # a reset link works for two hours
CELERY_BEAT_SCHEDULE["accounts-enforce-retention"] = {
    "task": "accounts.enforce_retention",
    "schedule": crontab(minute=37, hour="*/6"),
}

# --- Email: files in var/mail by default (a person can read them), SMTP when EMAIL_HOST is set.
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ProPortrait <no-reply@proportrait.example>")
PROPORTRAIT_PRIVACY_EMAIL = env_str("PROPORTRAIT_PRIVACY_EMAIL", "privacy@proportrait.example")
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(Path(env_str("PROPORTRAIT_MAIL_DIR", str(VAR_DIR / "mail"))))
# Mail files hold codes, links and addresses: the daily housekeeping deletes them after this.
PROPORTRAIT_MAIL_FILE_RETENTION_DAYS = env_int("PROPORTRAIT_MAIL_FILE_RETENTION_DAYS", 7)

# --- REST API
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "proportrait.api.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "EXCEPTION_HANDLER": "proportrait.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ProPortrait AI API",
    "DESCRIPTION": "REST API v1: anonymous portrait jobs, consent documents, data subject requests.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Every operation lists the error answers it can give, in the one error shape.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "proportrait.openapi.add_error_responses",
    ],
}

# --- Compliance (owned by compliance/; the public retention page and the DPA read these values).
PROPORTRAIT_COMPANY_NAME = env_str("PROPORTRAIT_COMPANY_NAME", "ProPortrait AI Ltd")
PROPORTRAIT_COMPANY_ADDRESS = env_str(
    "PROPORTRAIT_COMPANY_ADDRESS", "1 Example Street, London EC1A 1AA, United Kingdom"
)
# Who answers for the processing (GDPR Arts. 13(1)(a)-(b), 27, 30(1)(a)); the DPO also receives
# every signed audit checkpoint, a copy of the evidence kept outside our systems.
PROPORTRAIT_DPO_NAME = env_str("PROPORTRAIT_DPO_NAME", "Data Protection Officer")
PROPORTRAIT_DPO_EMAIL = env_str("PROPORTRAIT_DPO_EMAIL", "dpo@proportrait.example")
PROPORTRAIT_EU_REPRESENTATIVE = env_str("PROPORTRAIT_EU_REPRESENTATIVE", "")
# The DPO's written opinion on the DPIA (Art. 35(2)) and how often it is reviewed.
PROPORTRAIT_DPIA_DPO_OPINION = env_str("PROPORTRAIT_DPIA_DPO_OPINION", "")
PROPORTRAIT_DPIA_REVIEW_MONTHS = env_int("PROPORTRAIT_DPIA_REVIEW_MONTHS", 12)
PROPORTRAIT_UK_REPRESENTATIVE = env_str("PROPORTRAIT_UK_REPRESENTATIVE", "")
PROPORTRAIT_SUPERVISORY_AUTHORITY = env_str(
    "PROPORTRAIT_SUPERVISORY_AUTHORITY",
    "Information Commissioner's Office (ico.org.uk), or your local authority",
)
COMPLIANCE_DSAR_CODE_MINUTES = env_int("COMPLIANCE_DSAR_CODE_MINUTES", 15)
COMPLIANCE_DSAR_CODE_MAX_ATTEMPTS = env_int("COMPLIANCE_DSAR_CODE_MAX_ATTEMPTS", 5)
COMPLIANCE_DSAR_RESEND_SECONDS = env_int("COMPLIANCE_DSAR_RESEND_SECONDS", 60)
COMPLIANCE_DSAR_MAX_CODES = env_int("COMPLIANCE_DSAR_MAX_CODES", 5)
COMPLIANCE_DSAR_REQUESTS_PER_HOUR = env_int("COMPLIANCE_DSAR_REQUESTS_PER_HOUR", 5)
# Across all requests, per 24 hours: codes sent and wrong codes per email and per client network.
COMPLIANCE_DSAR_CODES_PER_EMAIL_PER_DAY = env_int("COMPLIANCE_DSAR_CODES_PER_EMAIL_PER_DAY", 10)
COMPLIANCE_DSAR_CODES_PER_ADDRESS_PER_DAY = env_int("COMPLIANCE_DSAR_CODES_PER_ADDRESS_PER_DAY", 30)
COMPLIANCE_DSAR_FAILED_CODES_PER_EMAIL_PER_DAY = env_int("COMPLIANCE_DSAR_FAILED_CODES_PER_EMAIL_PER_DAY", 10)
COMPLIANCE_DSAR_FAILED_CODES_PER_ADDRESS_PER_DAY = env_int(
    "COMPLIANCE_DSAR_FAILED_CODES_PER_ADDRESS_PER_DAY", 30
)
COMPLIANCE_DSAR_DUPLICATE_WINDOW_DAYS = env_int("COMPLIANCE_DSAR_DUPLICATE_WINDOW_DAYS", 30)
COMPLIANCE_DSAR_UNVERIFIED_RETENTION_DAYS = env_int("COMPLIANCE_DSAR_UNVERIFIED_RETENTION_DAYS", 30)
COMPLIANCE_DSAR_RECORD_RETENTION_DAYS = env_int(
    "COMPLIANCE_DSAR_RECORD_RETENTION_DAYS", 730
)  # CCPA 7101: 24 months
COMPLIANCE_EXPORT_LINK_HOURS = env_int("COMPLIANCE_EXPORT_LINK_HOURS", 72)
COMPLIANCE_AUDIT_RETENTION_DAYS = env_int("COMPLIANCE_AUDIT_RETENTION_DAYS", 2190)  # 6 years
COMPLIANCE_SUBPROCESSOR_NOTICE_DAYS = env_int("COMPLIANCE_SUBPROCESSOR_NOTICE_DAYS", 30)
COMPLIANCE_CERTIFICATE_LINK_DAYS = env_int("COMPLIANCE_CERTIFICATE_LINK_DAYS", 90)
# Proof of consent outlives the data it covers by the BIPA limitation period (3 years), then is
# reduced to document version, hash and dates.
PROPORTRAIT_CONSENT_EVIDENCE_DAYS = env_int("PROPORTRAIT_CONSENT_EVIDENCE_DAYS", 1095)
# --- end Compliance

# --- Security headers. HTTPS settings follow PROPORTRAIT_HTTPS (on in production behind TLS).
PROPORTRAIT_HTTPS = env_bool("PROPORTRAIT_HTTPS", False)
SECURE_SSL_REDIRECT = PROPORTRAIT_HTTPS
SESSION_COOKIE_SECURE = PROPORTRAIT_HTTPS
CSRF_COOKIE_SECURE = PROPORTRAIT_HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if PROPORTRAIT_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PROPORTRAIT_HTTPS
SECURE_HSTS_PRELOAD = PROPORTRAIT_HTTPS
# Proxies in front of the web tier that append to X-Forwarded-For (0: clients connect directly).
PROPORTRAIT_TRUSTED_PROXY_HOPS = env_int(
    "PROPORTRAIT_TRUSTED_PROXY_HOPS", 1 if env_bool("PROPORTRAIT_BEHIND_PROXY") else 0
)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("PROPORTRAIT_BEHIND_PROXY") else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Secret-bearing URL paths (export, invitation, reset, signed file links) never reach a log.
    "filters": {"redact_secrets": {"()": "proportrait.logsafety.RedactSecretPaths"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Pillow logs EXIF values (camera, owner, GPS) at DEBUG: never let photo metadata into logs.
    "loggers": {"PIL": {"level": "WARNING", "propagate": True}},
}
