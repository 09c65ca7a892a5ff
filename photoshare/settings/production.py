"""Production: HTTPS only, secrets from the environment, static files from
WhiteNoise, rate-limit counters shared by every process, and clean under
`manage.py check --deploy`.

Served by gunicorn (gunicorn.conf.py), which alone decides whether a request
came over HTTPS: it believes X-Forwarded-Proto only from the proxies in
FORWARDED_ALLOW_IPS. Django's SECURE_PROXY_SSL_HEADER is left unset on
purpose: Django would believe that header from anyone, so a client talking to
the app directly could claim HTTPS."""

from django.core.exceptions import ImproperlyConfigured

from core.env import env_bool, env_int, env_list, env_required
from photoshare.settings.base import *  # noqa: F403

DEBUG = False
SECRET_KEY = env_required("DJANGO_SECRET_KEY", "50+ random characters, e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(64))'`")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("The ALLOWED_HOSTS environment variable is required in production (comma-separated host names).")

SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)  # seconds; one year
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Production settings over plain HTTP, for the app on this machine's loopback
# only: the two-process check (scripts/production_stack.py) and compose on a
# laptop. Refused for any other host, since over HTTP the session cookie, which
# stands for the user's Cognito tokens, would cross the network readable.
PHOTOSHARE_LOOPBACK_HTTP = env_bool("PHOTOSHARE_LOOPBACK_HTTP", False)
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
if PHOTOSHARE_LOOPBACK_HTTP:
    if not set(ALLOWED_HOSTS) <= _LOOPBACK_HOSTS:
        raise ImproperlyConfigured(
            "PHOTOSHARE_LOOPBACK_HTTP is for loopback only: every ALLOWED_HOSTS entry must be 127.0.0.1, "
            f"localhost or ::1, not {', '.join(sorted(set(ALLOWED_HOSTS) - _LOOPBACK_HOSTS))}."
        )
    SECURE_SSL_REDIRECT = False
    SECURE_HSTS_SECONDS = 0  # browsers ignore HSTS over HTTP anyway; say so
    SESSION_COOKIE_SECURE = False
    CSRF_COOKIE_SECURE = False

# Static files: WhiteNoise serves them from the app itself (no separate web
# server to configure), right after SecurityMiddleware so a static file still
# gets its headers but skips sessions and CSRF. `collectstatic` writes each
# file under a content-hashed name with a gzip copy beside it, and WhiteNoise
# serves hashed names with a one-year `Cache-Control: immutable`.
MIDDLEWARE = [*MIDDLEWARE]  # noqa: F405
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "whitenoise.middleware.WhiteNoiseMiddleware")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Rate-limit counters in the database, so every gunicorn worker and every web
# process counts against the same limits (a per-process cache would give each
# process its own budget of guesses). `manage.py createcachetable` makes the
# table; docker/entrypoint.sh and scripts/production_stack.py run it at start.
# Its increment is a read then a write, so two attempts at the same instant
# may count once; memcached or Redis (RedisCache) count atomically.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "photoshare_cache",
    }
}
