"""Local development: the sandbox, DEBUG on, a throwaway secret key."""

from photoshare.env import env_list, env_str
from photoshare.settings.base import *  # noqa: F403

DEBUG = True
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "django-insecure-development-only-key-do-not-deploy")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
