"""Settings shared by every environment. Each value comes from the
environment (see `.env.example` for what each one means)."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from core.env import env_bool, env_int, env_list, env_required, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("PHOTOSHARE_VAR_DIR", str(BASE_DIR / "var")))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "core",
    "accounts",
    "uploads",
    "infra",
    "inspector",
    "workshop",
    "albums",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "photoshare.middleware.S3ContentSecurityPolicy",  # after CSPMiddleware: adds to the policy it builds
]

ROOT_URLCONF = "photoshare.urls"
AUTH_USER_MODEL = "accounts.User"
# Cognito for people; Django's own passwords only for `createsuperuser` admins.
AUTHENTICATION_BACKENDS = [
    "accounts.backends.CognitoBackend",
    "accounts.oidc.OidcBackend",  # "Sign in with Winter Corp SSO" (OIDC_* below)
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:sign-in"
CSRF_FAILURE_VIEW = "photoshare.views.csrf_failure"
# Tokens live in the session, so sessions live on the server (the database).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = 8 * 3600  # seconds; a working day, well inside the refresh token's 30 days
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Attempt counters for rate limiting (accounts.ratelimit). Per process, which
# is right for runserver's one process; production (several gunicorn workers,
# several machines) shares them through the database (settings/production.py).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Reverse proxies (load balancer, CDN) in front of the app that append the
# address they saw to X-Forwarded-For; 0 believes REMOTE_ADDR only. The client
# address it gives (core.http.client_address) keys rate limits and audit.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
WSGI_APPLICATION = "photoshare.wsgi.application"

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
                "photoshare.context_processors.local_outbox",
                "workshop.context_processors.lab_banner",
            ],
        },
    },
]

# PostgreSQL when DATABASE_URL is set (production, the two-process check),
# else the embedded SQLite below, so `make run` needs nothing installed.
DATABASE_URL = env_str("DATABASE_URL", "")
# Seconds a connection is kept for the next request of the same worker thread
# (0: one per request). Health checks drop one the server closed meanwhile.
DATABASE_CONN_MAX_AGE = env_int("DATABASE_CONN_MAX_AGE", 60)  # seconds

DATABASES = {
    "default": {
        # Django's SQLite, kept 0600 in a 0700 var/: sessions hold users' tokens.
        "ENGINE": "photoshare.private_sqlite3",
        "NAME": env_str("DATABASE_PATH", str(VAR_DIR / "db.sqlite3")),
        # Configured for many concurrent requests (a workshop on `make run`):
        # every credentials call writes the session, so writers overlap.
        # - WAL lets readers go on while one connection writes, and
        #   synchronous=NORMAL is WAL's safe setting (no fsync per commit).
        # - IMMEDIATE takes the write lock when a transaction begins. A
        #   DEFERRED one that reads first and then writes cannot wait for the
        #   lock: SQLite fails it at once with "database is locked", whatever
        #   the timeout.
        # - timeout (seconds) is how long a writer waits for the lock.
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }
}
if DATABASE_URL:
    # Parsed by dj-database-url rather than by hand: it undoes percent-encoding
    # in user and password, takes a unix socket directory as a percent-encoded
    # host (postgresql://u@%2Frun%2Fpostgresql/db), and turns query parameters
    # (?sslmode=require) into psycopg OPTIONS; a hand-written urlsplit would
    # have to get each of those right again. Only PostgreSQL is accepted:
    # SQLite goes through DATABASE_PATH and our private backend.
    import dj_database_url

    if not DATABASE_URL.startswith(("postgres://", "postgresql://")):
        raise ImproperlyConfigured("DATABASE_URL must be a postgresql:// URL (PostgreSQL through psycopg 3); unset it for SQLite.")
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, engine="django.db.backends.postgresql",
            conn_max_age=DATABASE_CONN_MAX_AGE, conn_health_checks=True,
        )
    }  # fmt: skip

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Where `collectstatic` writes (production serves it with WhiteNoise). Its own
# setting so an image can bake it in outside the data volume at VAR_DIR.
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "botocore": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        "django.utils.autoreload": {"level": "WARNING"},  # runserver already prints what it watches
    },
}

# --- AWS -----------------------------------------------------------------------
# PHOTOSHARE_AWS=local talks to the sandbox (python -m sandbox); aws talks to
# the real endpoints with credentials from boto3's usual chain.
PHOTOSHARE_AWS = env_str("PHOTOSHARE_AWS", "local")
if PHOTOSHARE_AWS not in ("local", "aws"):
    raise ImproperlyConfigured(f"PHOTOSHARE_AWS must be 'local' or 'aws', not {PHOTOSHARE_AWS!r}.")
AWS_REGION = env_str("AWS_REGION", "us-east-1")
SANDBOX_PORT = env_int("SANDBOX_PORT", 4566)
_SANDBOX = PHOTOSHARE_AWS == "local"
# Where the server sends every AWS call; None means AWS's real endpoints.
AWS_ENDPOINT_URL: str | None = env_str("AWS_ENDPOINT_URL", f"http://127.0.0.1:{SANDBOX_PORT}" if _SANDBOX else "") or None
# The same S3 as the browser reaches it (uploads, presigned photo URLs). Locally
# on another host than the app's 127.0.0.1: browsers do not separate cookies by
# port, so on one host whatever the S3 origin served could set the app's cookies.
AWS_BROWSER_ENDPOINT_URL: str | None = env_str("AWS_BROWSER_ENDPOINT_URL", f"http://localhost:{SANDBOX_PORT}" if _SANDBOX else "") or None
AWS_CONNECT_TIMEOUT = env_int("AWS_CONNECT_TIMEOUT", 5)  # seconds
AWS_READ_TIMEOUT = env_int("AWS_READ_TIMEOUT", 10)  # seconds
AWS_MAX_ATTEMPTS = env_int("AWS_MAX_ATTEMPTS", 3)  # total tries per call, first one included

# The deployment: names that `provision` creates, and the file it writes the
# resulting IDs to (read back by core.deployment).
PHOTOSHARE_NAME = env_str("PHOTOSHARE_NAME", "photoshare")
PHOTOSHARE_BUCKET = env_str("PHOTOSHARE_BUCKET", f"{PHOTOSHARE_NAME}-photos" if PHOTOSHARE_AWS == "local" else "")
PHOTOSHARE_DEPLOYMENT_FILE = Path(
    env_str("PHOTOSHARE_DEPLOYMENT_FILE", str(VAR_DIR / f"deployment-{PHOTOSHARE_AWS}.json"))
)
PORT = env_int("PORT", 8000)
# Which workshop lab is applied (`manage.py lab apply N` writes it), so every
# page's banner knows without an AWS call.
PHOTOSHARE_LABS_FILE = Path(env_str("PHOTOSHARE_LABS_FILE", str(VAR_DIR / "labs.json")))
# The browser origins allowed by the bucket's CORS rule: exactly the app's. Not
# localhost, which is the sandbox's host as the browser sees it.
APP_ORIGINS = env_list("APP_ORIGINS", [f"http://127.0.0.1:{PORT}"])
ALLOW_GUESTS = env_bool("ALLOW_GUESTS", True)
# New guest identities (GetId without a login) per client address per hour;
# past it POST /api/credentials answers 429. A guest session reuses its own.
GUEST_IDENTITIES_PER_HOUR = env_int("GUEST_IDENTITIES_PER_HOUR", 30)

# --- other ways in (issue 16): an OpenID Connect provider, sign-in links ------------------
# The OIDC provider people sign in with; `provision` registers it with IAM and
# the identity pool. Locally the sandbox's own, on localhost rather than
# 127.0.0.1: browsers scope cookies by host, not port, so its pages get none of
# the app's cookies.
OIDC_ISSUER = env_str("OIDC_ISSUER", f"http://localhost:{SANDBOX_PORT}/_sandbox/oidc" if _SANDBOX else "")
OIDC_CLIENT_ID = env_str("OIDC_CLIENT_ID", "photoshare-web")
# A development default only where `make run` registers the same one with the
# sandbox's provider; a real provider's secret must come from the environment.
# On AWS an empty OIDC_ISSUER means no OIDC provider at all (nothing to sign in
# with, so no secret needed); once it names one, the secret is required.
if _SANDBOX:
    OIDC_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET", "photoshare-sandbox-oidc-secret")
elif OIDC_ISSUER:
    OIDC_CLIENT_SECRET = env_required("OIDC_CLIENT_SECRET", "the client secret your OpenID Connect provider issued to Photoshare")
else:
    OIDC_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET", "")
# ID tokens whose `hd` claim is exactly this domain get the team role.
OIDC_TEAM_DOMAIN = env_str("OIDC_TEAM_DOMAIN", "wintercorp.com")
# The identity pool's developer provider name for sign-in links; fixed once set on a pool.
PHOTOSHARE_DEVELOPER_PROVIDER = env_str("PHOTOSHARE_DEVELOPER_PROVIDER", "login.photoshare")

# --- photo uploads ----------------------------------------------------------------------
# One limit that the upload page, the registration API and bench/uploads.py all
# read (through uploads/rules.py). The browser sends the bytes straight to S3,
# so the app never holds them; the limit is checked again at registration.
MAX_PHOTO_BYTES = env_int("MAX_PHOTO_BYTES", 50 * 1024 * 1024)  # bytes; 50 MiB
# Above this size the browser uploads in parts (CreateMultipartUpload ...
# CompleteMultipartUpload); below it, one PUT.
MULTIPART_THRESHOLD = env_int("MULTIPART_THRESHOLD", 8 * 1024 * 1024)  # bytes; 8 MiB
MULTIPART_PART_BYTES = env_int("MULTIPART_PART_BYTES", 8 * 1024 * 1024)  # bytes; 8 MiB, every part but the last
# S3's own bounds: every part but the last at least 5 MiB, at most 10,000 parts.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html
_S3_MIN_PART_BYTES = 5 * 1024 * 1024  # bytes; 5 MiB
_S3_MAX_PARTS = 10_000
if MAX_PHOTO_BYTES < 1:
    raise ImproperlyConfigured(f"MAX_PHOTO_BYTES must be a positive number of bytes, not {MAX_PHOTO_BYTES}.")
if MULTIPART_PART_BYTES < _S3_MIN_PART_BYTES:
    raise ImproperlyConfigured(f"MULTIPART_PART_BYTES must be at least {_S3_MIN_PART_BYTES} (5 MiB, S3's minimum part size).")
if MULTIPART_THRESHOLD < MULTIPART_PART_BYTES:
    raise ImproperlyConfigured("MULTIPART_THRESHOLD must be at least MULTIPART_PART_BYTES (one part is one PUT).")
if -(-MAX_PHOTO_BYTES // MULTIPART_PART_BYTES) > _S3_MAX_PARTS:
    raise ImproperlyConfigured(f"MULTIPART_PART_BYTES is too small for MAX_PHOTO_BYTES: S3 takes at most {_S3_MAX_PARTS} parts.")

# --- email the app sends itself ----------------------------------------------------------
# Cognito emails the codes; the app emails only notices (an attempt to sign up
# with an address that has an account). Locally they go to the database and
# /accounts/outbox/; on AWS through SMTP, e.g. Amazon SES's SMTP interface.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND", "accounts.outbox.OutboxBackend" if PHOTOSHARE_AWS == "local" else "django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)  # seconds
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Photoshare <photoshare@localhost>")
SELF_SIGN_UP = env_bool("SELF_SIGN_UP", True)
DEMO_PASSWORD = env_str("DEMO_PASSWORD", "Photoshare-Demo-1")
# Where this repository's files can be read on the web (e.g. a GitHub tree
# URL ending in /blob/main). The inspector links each step to the line of code
# that does it there; empty shows the file and line as text.
SOURCE_URL = env_str("SOURCE_URL", "")

# --- Content Security Policy (django-csp) ---------------------------------------------
# No inline script anywhere. The browser may talk to the app and to S3 only;
# photoshare.middleware adds the S3 origin of the current settings to
# connect-src and img-src on every response.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}
