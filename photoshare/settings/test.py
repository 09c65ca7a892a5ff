"""Tests: development settings, fast password hashing, files under a temp dir."""

from photoshare.settings.development import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
