"""Production: HTTPS only, secrets from the environment, and clean under
`manage.py check --deploy`."""

from core.env import env_int, env_list, env_required
from photoshare.settings.base import *  # noqa: F403

DEBUG = False
SECRET_KEY = env_required("DJANGO_SECRET_KEY", "50+ random characters, e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(64))'`")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
if not ALLOWED_HOSTS:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("The ALLOWED_HOSTS environment variable is required in production (comma-separated host names).")

SECURE_SSL_REDIRECT = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # behind a TLS-terminating load balancer
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)  # seconds; one year
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
