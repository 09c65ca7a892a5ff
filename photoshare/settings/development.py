"""Local development: the sandbox, DEBUG on, a throwaway secret key."""

from core.env import env_list, env_str
from photoshare.settings.base import *  # noqa: F403

DEBUG = True
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "django-insecure-development-only-key-do-not-deploy")
# 127.0.0.1 only: localhost is the sandbox's host as the browser sees it, and the
# app's cookies must never live there (see AWS_BROWSER_ENDPOINT_URL).
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1"])
# Before anything checks ALLOWED_HOSTS: a bookmarked http://localhost:8000 gets
# sent to the app's own origin instead of a 400.
MIDDLEWARE = ["photoshare.middleware.LocalhostToAppOrigin", *MIDDLEWARE]  # noqa: F405
