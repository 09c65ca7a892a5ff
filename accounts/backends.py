"""The authentication backend: a verified user-pool ID token is who you are.

Shaped like Django's RemoteUserBackend: verify, then get-or-create the user
by the token's `sub`, then `configure_user` keeps the email in step. The
token is verified here and only here for a sign-in; its claims ride on the
returned user as `user.id_claims`, for the view to hand to the service, so
nothing downstream verifies it again (mozilla-django-oidc does the same)."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import BaseBackend
from django.db import IntegrityError
from django.http import HttpRequest

from accounts import tokens
from accounts.tokens import InvalidToken
from core.db import row_insert

log = logging.getLogger(__name__)


def email_is_verified(claims: dict[str, Any]) -> bool:
    """Cognito's ID token says `email_verified: true` (a JSON boolean; an
    emulator that copies the attribute may send the string "true"). An
    unverified email is only what someone typed: it must not become the
    address the app shows or writes to."""
    return claims.get("email_verified") in (True, "true")


class CognitoBackend(BaseBackend):
    def authenticate(self, request: HttpRequest | None, id_token: str | None = None, **kwargs: Any) -> Any:
        if id_token is None:
            return None  # not ours: let other backends (admin passwords) try
        try:
            claims = tokens.id_token_verify(id_token)
        except InvalidToken as exc:
            log.warning("refused an ID token: %s", exc)
            return None
        user, created = self._user_get_or_create(claims["sub"])
        user = self.configure_user(user, claims, created=created)
        if not self.user_can_authenticate(user):
            log.info("refused sign-in of deactivated user %s", user.pk)
            return None
        user.id_claims = claims
        return user

    def _user_get_or_create(self, sub: str) -> tuple[Any, bool]:
        """(user, created) by user-pool `sub`, as get_or_create, but a new
        user is one INSERT, its unusable password included, with no
        transaction around it (core.db explains why): a workshop's fifty
        first sign-ins come at once."""
        users = get_user_model().objects
        found = users.filter(username=sub).first()
        if found is not None:
            return found, False
        user = get_user_model()(username=sub)
        user.set_unusable_password()  # users sign in through Cognito only
        try:
            row_insert(user)
        except IntegrityError:  # the same person's first sign-in in another request, just now
            return users.get(username=sub), False
        return user, True

    def configure_user(self, user: Any, claims: dict[str, Any], *, created: bool) -> Any:
        """Mirror the attributes the app shows; the user pool stays the source.
        The email only once the pool has verified it."""
        changed = []
        email = claims.get("email", "")
        if email_is_verified(claims) and user.email != email:
            user.email = email
            changed.append("email")
        if changed:
            user.save(update_fields=changed)
        return user

    def user_can_authenticate(self, user: Any) -> bool:
        """As ModelBackend: a user deactivated in the admin is nobody, at
        sign-in and on every later request of a session they already had."""
        return getattr(user, "is_active", True)

    def get_user(self, user_id: int) -> Any:
        user_model = get_user_model()
        try:
            user = user_model.objects.get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
