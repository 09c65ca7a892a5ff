"""`CognitoBackend.authenticate(request, id_token=...)`: a verified ID token
is a Django user keyed on the user-pool `sub`; anything else is nobody."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import authenticate

from accounts.backends import CognitoBackend
from accounts.models import User


def test_a_genuine_token_becomes_a_user_keyed_on_the_sub(forge):
    """First sign-in creates the user: username is the sub, email mirrored, no usable password."""
    user = CognitoBackend().authenticate(None, id_token=forge.tokens.id_token)
    assert user == User.objects.get(username=forge.claims()["sub"])
    assert user.email == "alice@example.com"
    assert not user.has_usable_password()
    assert user.identity_id == ""  # GetId is the service's job, not the backend's


def test_the_same_sub_is_the_same_user_and_its_email_follows_the_pool(forge):
    """A later token for the same sub reuses the row and updates a changed email."""
    first = CognitoBackend().authenticate(None, id_token=forge.tokens.id_token)
    changed = CognitoBackend().authenticate(None, id_token=forge.resigned(email="alice@new.example"))
    assert changed.pk == first.pk
    assert User.objects.get(pk=first.pk).email == "alice@new.example"
    assert User.objects.count() == 1


def test_django_authenticate_reaches_the_backend(forge, rf):
    """django.contrib.auth.authenticate(id_token=...) goes through CognitoBackend."""
    user = authenticate(rf.post("/accounts/sign-in/"), id_token=forge.tokens.id_token)
    assert user is not None and user.backend == "accounts.backends.CognitoBackend"


def test_without_an_id_token_the_backend_steps_aside(shared_site):
    """Username/password credentials are not Cognito's: it returns None for ModelBackend to try."""
    assert CognitoBackend().authenticate(None, username="admin", password="x") is None


# Scenario -> forged token (the full table is in test_tokens; these are the attacks).
ATTACKS = {
    "tampered payload": lambda f: f.tokens.id_token.split(".")[0] + "." + f.resigned(sub="someone-else").split(".")[1] + "." + f.tokens.id_token.split(".")[2],
    "token from another pool": lambda f: f.resigned(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"),
    "token for another app client": lambda f: f.resigned(aud="someotherclient"),
    "access token as ID token": lambda f: f.tokens.access_token,
    "expired token": lambda f: f.resigned(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
}


@pytest.mark.parametrize("attack", ATTACKS)
def test_refused_tokens_authenticate_nobody_and_create_no_user(forge, attack, caplog):
    """A forged or misused token: authenticate returns None, no user row appears, the refusal is logged."""
    assert CognitoBackend().authenticate(None, id_token=ATTACKS[attack](forge)) is None
    assert not User.objects.exists()
    assert any(r.name == "accounts.backends" and "refused an ID token" in r.getMessage() for r in caplog.records)
