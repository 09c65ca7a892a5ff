"""`CognitoBackend.authenticate(request, id_token=...)`: a verified ID token
is the Django user keyed on its user-pool `sub` (with the verified email
only), the token's claims ride on it, a deactivated user is nobody, and
anything else is nobody."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import authenticate
from django.test import Client
from django.utils.html import escape

from accounts import cognito
from accounts.backends import CognitoBackend
from accounts.models import User
from tests.actors import STRONG_PASSWORD

API = "/api/credentials"


def test_a_genuine_token_becomes_the_user_keyed_on_its_sub(forge):
    """First sign-in creates alice's row: username her sub, her email, no usable password, the verified claims on it."""
    claims = forge.claims()
    user = CognitoBackend().authenticate(None, id_token=forge.tokens.id_token)
    stored = User.objects.get()
    assert (user.pk, user.username, user.email) == (stored.pk, claims["sub"], "alice@example.com")
    assert (stored.username, stored.email) == (claims["sub"], "alice@example.com")
    assert not stored.has_usable_password()
    assert stored.identity_id == ""  # GetId is the service's job, not the backend's
    assert user.id_claims == claims  # handed on, so nobody verifies the token again


@pytest.mark.django_db(transaction=True)
def test_a_first_sign_in_writes_its_user_without_a_transaction(forge):
    """The new row (with its unusable password) is one INSERT in autocommit, no BEGIN: fifty first sign-ins come at once (core.db)."""
    from django.db import connection

    statements: list[tuple[str, bool]] = []

    def sql(execute, statement, params, many, context):
        statements.append((statement.split(" ", 1)[0].upper(), connection.in_atomic_block))
        return execute(statement, params, many, context)

    with connection.execute_wrapper(sql):
        user = CognitoBackend().authenticate(None, id_token=forge.tokens.id_token)
    assert not User.objects.get(pk=user.pk).has_usable_password()
    assert [s for s in statements if s[0] in ("BEGIN", "SAVEPOINT") or s[1]] == []
    assert ("INSERT", False) in statements


def test_a_user_created_meanwhile_by_another_request_is_the_one_returned(forge, monkeypatch):
    """The same person's two first sign-ins at once: the INSERT that loses returns the row the other wrote."""
    from accounts import backends

    real_insert = backends.row_insert
    other = {}

    def racing_insert(instance):
        other["user"] = User.objects.create(username=instance.username)  # the other request, just before us
        real_insert(instance)

    monkeypatch.setattr(backends, "row_insert", racing_insert)
    user = CognitoBackend().authenticate(None, id_token=forge.tokens.id_token)
    assert user.pk == other["user"].pk
    assert User.objects.count() == 1


def test_each_token_is_its_own_user(forge, settings):
    """Alice's token gives alice's row and bob's gives bob's: each by its own sub and email."""
    bob_token = cognito.user_sign_in(email="bob@example.com", password=settings.DEMO_PASSWORD).id_token
    alice = CognitoBackend().authenticate(None, id_token=forge.tokens.id_token)
    bob = CognitoBackend().authenticate(None, id_token=bob_token)
    assert alice.pk != bob.pk
    assert (alice.username, alice.email) == (forge.claims()["sub"], "alice@example.com")
    assert (bob.username, bob.email) == (forge.claims(bob_token)["sub"], "bob@example.com")
    assert CognitoBackend().authenticate(None, id_token=forge.tokens.id_token).pk == alice.pk


def test_the_same_sub_is_the_same_user_and_its_email_follows_the_pool(forge):
    """A later token for the same sub reuses the row and updates a changed (verified) email."""
    first = CognitoBackend().authenticate(None, id_token=forge.tokens.id_token)
    changed = CognitoBackend().authenticate(None, id_token=forge.resigned(email="alice@new.example"))
    assert (changed.pk, changed.username) == (first.pk, forge.claims()["sub"])
    assert User.objects.get(pk=first.pk).email == "alice@new.example"
    assert User.objects.count() == 1


# email_verified claim (None: absent) -> is the token's email copied onto the user?
EMAIL_VERIFIED = [(True, True), ("true", True), (False, False), ("false", False), (None, False)]


@pytest.mark.parametrize("verified, copied", EMAIL_VERIFIED)
def test_the_email_is_copied_only_when_the_token_says_it_is_verified(forge, verified, copied):
    """A new user gets the email only if email_verified is true; an existing one keeps their verified email otherwise."""
    new = CognitoBackend().authenticate(None, id_token=forge.resigned(email_verified=verified))
    assert User.objects.get(pk=new.pk).email == ("alice@example.com" if copied else "")

    User.objects.filter(pk=new.pk).update(email="alice@example.com")
    again = CognitoBackend().authenticate(None, id_token=forge.resigned(email="typed@elsewhere.example", email_verified=verified))
    assert again.pk == new.pk
    assert User.objects.get(pk=new.pk).email == ("typed@elsewhere.example" if copied else "alice@example.com")


# --- deactivated users ----------------------------------------------------------------------


def test_a_deactivated_user_is_refused_by_the_backend(forge):
    """is_active false (set in the admin): authenticate returns None for a genuine token, and get_user finds nobody."""
    user = CognitoBackend().authenticate(None, id_token=forge.tokens.id_token)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert CognitoBackend().authenticate(None, id_token=forge.tokens.id_token) is None
    assert CognitoBackend().get_user(user.pk) is None
    User.objects.filter(pk=user.pk).update(is_active=True)
    assert CognitoBackend().get_user(user.pk).pk == user.pk


def test_a_deactivated_user_cannot_sign_in(shared_site, make_user, sign_in):
    """The right password for a deactivated account: the sign-in page refuses (400, fixed message) and nobody is signed in."""
    from accounts.views import SIGN_IN_REFUSED

    email = make_user()
    sign_in(email)
    User.objects.filter(email=email).update(is_active=False)
    client = Client()
    response = client.post("/accounts/sign-in/", {"email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 400
    assert escape(str(SIGN_IN_REFUSED)) in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_session_ends_at_the_next_request_once_its_user_is_deactivated(shared_site, make_user, sign_in):
    """Signed in, then deactivated in the admin: the next request is a guest's (no email on the page, guest credentials)."""
    email = make_user()
    client = sign_in(email)
    assert email in client.get("/").content.decode()
    assert client.post(API).json()["authenticated"] is True
    User.objects.filter(email=email).update(is_active=False)

    assert email not in client.get("/").content.decode()
    assert client.post(API).json()["authenticated"] is False


def test_django_authenticate_reaches_the_backend(forge, rf):
    """django.contrib.auth.authenticate(id_token=...) goes through CognitoBackend."""
    user = authenticate(rf.post("/accounts/sign-in/"), id_token=forge.tokens.id_token)
    assert user is not None and user.backend == "accounts.backends.CognitoBackend"


def test_without_an_id_token_the_backend_steps_aside(shared_site):
    """Username/password credentials are not Cognito's: it returns None for ModelBackend to try."""
    assert CognitoBackend().authenticate(None, username="admin", password="x") is None


# Scenario -> forged token (the full table is in test_tokens; these are the attacks a backend must stop).
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
