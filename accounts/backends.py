"""The authentication backend: a verified user-pool ID token is who you are.

Shaped like Django's RemoteUserBackend: verify, then get-or-create the user
by the token's `sub`, then `configure_user` keeps the email in step."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import BaseBackend
from django.http import HttpRequest

from accounts.tokens import InvalidToken, id_token_verify

log = logging.getLogger(__name__)


class CognitoBackend(BaseBackend):
    def authenticate(self, request: HttpRequest | None, id_token: str | None = None, **kwargs: Any) -> Any:
        if id_token is None:
            return None  # not ours: let other backends (admin passwords) try
        try:
            claims = id_token_verify(id_token)
        except InvalidToken as exc:
            log.warning("refused an ID token: %s", exc)
            return None
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(username=claims["sub"])
        return self.configure_user(user, claims, created=created)

    def configure_user(self, user: Any, claims: dict[str, Any], *, created: bool) -> Any:
        """Mirror the attributes the app shows; the user pool stays the source."""
        email = claims.get("email", "")
        if created:
            user.set_unusable_password()  # users sign in through Cognito only
        if created or user.email != email:
            user.email = email
            user.save()
        return user

    def get_user(self, user_id: int) -> Any:
        user_model = get_user_model()
        try:
            return user_model.objects.get(pk=user_id)
        except user_model.DoesNotExist:
            return None
