"""The enhanced flow behind POST /api/credentials (accounts.services), seen
through the test client and checked in the identity pool: one `GetId` per
user, one guest identity per browser session, guests linked when they sign
in, credentials reused from the session, and ID tokens refreshed or, when
refresh fails, the user signed out."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from django.test import Client

from accounts import tokens
from accounts.models import User
from accounts.store import REUSE_UNTIL, SESSION_CREDENTIALS, SESSION_GUEST_IDENTITY, SESSION_TOKENS
from tests.actors import pool_identities
from tests.site_fixtures import SHORT_CREDENTIALS_TTL

API = "/api/credentials"


def credentials(client: Client) -> dict:
    response = client.post(API)
    assert response.status_code == 200, response.content
    return response.json()


def forget_cached_credentials(client: Client) -> None:
    session = client.session
    session.pop(SESSION_CREDENTIALS, None)
    session.save()


def expire_id_token(client: Client) -> None:
    """Make the session's ID token look expired (and drop the cached
    credentials, which would otherwise be answered without it)."""
    session = client.session
    session[SESSION_TOKENS] = {**session[SESSION_TOKENS], "expires_at": int(time.time()) - 60}
    session.pop(SESSION_CREDENTIALS, None)
    session.save()


@pytest.fixture
def verifications(monkeypatch) -> list[str]:
    """The ID tokens accounts.tokens.id_token_verify was asked to verify during
    the test: the real function, wrapped by monkeypatch with a recorder (every
    caller reaches it through the module, so none is missed)."""
    seen: list[str] = []
    real: Callable = tokens.id_token_verify

    def recording(token: str) -> dict:
        seen.append(token)
        return real(token)

    monkeypatch.setattr(tokens, "id_token_verify", recording)
    return seen


# --- the ID token is verified once -----------------------------------------------------------


def test_a_sign_in_verifies_the_id_token_exactly_once(shared_site, make_user, sign_in, verifications):
    """A guest session signs in (identity linked, credentials cached) and fetches credentials: one verification, of the session's ID token."""
    client = Client()
    credentials(client)  # a guest first, so sign-in also links an identity
    sign_in(make_user(), client=client)
    assert credentials(client)["authenticated"] is True
    assert verifications == [client.session[SESSION_TOKENS]["id"]]


def test_a_refresh_verifies_the_new_id_token_exactly_once(shared_site, make_user, sign_in, verifications):
    """An expired ID token refreshed by a credentials request: one more verification, of the new token only."""
    client = sign_in(make_user())
    expire_id_token(client)
    verifications.clear()
    credentials(client)
    credentials(client)  # from the cache: no verification at all
    assert verifications == [client.session[SESSION_TOKENS]["id"]]


# --- one identity per user ------------------------------------------------------------------


def test_get_id_is_called_once_per_user_across_many_credential_requests(
    shared_site, sandbox, make_user, sign_in, identity_calls
):
    """Sign in twice, fetch credentials fifteen times: one GetId, one new identity in the pool, one identity ID."""
    before = len(pool_identities(sandbox, shared_site.identity_pool_id))
    email = make_user()
    first, second = sign_in(email), sign_in(email)
    seen = set()
    for client in [first] * 10 + [second] * 5:
        forget_cached_credentials(client)  # so each request really reaches the identity pool
        seen.add(credentials(client)["identityId"])

    assert identity_calls["GetId"] == 1
    assert identity_calls["GetCredentialsForIdentity"] == 15
    assert seen == {User.objects.get(email=email).identity_id}
    assert len(pool_identities(sandbox, shared_site.identity_pool_id)) == before + 1


def test_cached_credentials_are_reused_then_replaced_for_the_same_identity(shared_site, make_user, sign_in, identity_calls):
    """A second request gets the same keys without asking Cognito; once the cache is cleared, new keys for the same identity."""
    client = sign_in(make_user())
    first, again = credentials(client), credentials(client)
    assert again == first
    assert identity_calls["GetCredentialsForIdentity"] == 1

    forget_cached_credentials(client)
    fresh = credentials(client)
    assert fresh["identityId"] == first["identityId"]
    assert fresh["accessKeyId"] != first["accessKeyId"] and fresh["sessionToken"] != first["sessionToken"]
    assert identity_calls["GetCredentialsForIdentity"] == 2


def test_credentials_close_to_expiry_are_not_reused(shared_site, short_lived_sandbox, make_user, sign_in, settings):
    """Credentials with less than five minutes left (this sandbox issues four) are replaced on every request."""
    assert SHORT_CREDENTIALS_TTL < REUSE_UNTIL.total_seconds()
    settings.AWS_ENDPOINT_URL = short_lived_sandbox.endpoint
    client = sign_in(make_user())
    first, second = credentials(client), credentials(client)
    assert first["identityId"] == second["identityId"]
    assert first["accessKeyId"] != second["accessKeyId"]


def test_a_stored_identity_the_pool_no_longer_knows_is_replaced(shared_site, make_user, sign_in):
    """A stale identity ID on the user (a reset sandbox) is healed through GetId, and the user row repaired."""
    email = make_user()
    client = sign_in(email)
    real = User.objects.get(email=email).identity_id
    User.objects.filter(email=email).update(identity_id="us-east-1:00000000-0000-0000-0000-000000000000")
    forget_cached_credentials(client)
    assert credentials(client)["identityId"] == real
    assert User.objects.get(email=email).identity_id == real


# --- guests ---------------------------------------------------------------------------------


def test_a_guest_keeps_one_identity_within_a_session_and_gets_a_new_one_in_another(
    shared_site, sandbox, identity_calls
):
    """Two browser sessions: each keeps its own guest identity across requests; GetId once per session."""
    before = len(pool_identities(sandbox, shared_site.identity_pool_id))
    one, two = Client(), Client()
    first = credentials(one)
    forget_cached_credentials(one)
    assert credentials(one)["identityId"] == first["identityId"] == one.session[SESSION_GUEST_IDENTITY]
    other = credentials(two)

    assert other["identityId"] != first["identityId"]
    assert not first["authenticated"] and not other["authenticated"]
    assert identity_calls["GetId"] == 2
    assert len(pool_identities(sandbox, shared_site.identity_pool_id)) == before + 2


def test_a_guest_who_signs_in_keeps_the_guest_identity(shared_site, sandbox, make_user, sign_in, identity_calls):
    """Guest-to-user linking: the user's identity ID is the guest's, and the pool shows the login on it."""
    email = make_user()
    client = Client()
    guest = credentials(client)["identityId"]
    sign_in(email, client=client)

    assert User.objects.get(email=email).identity_id == guest
    assert SESSION_GUEST_IDENTITY not in client.session
    described = sandbox.client("cognito-identity").describe_identity(IdentityId=guest)
    assert described["Logins"] == [shared_site.provider]
    signed_in = credentials(client)
    assert signed_in["identityId"] == guest and signed_in["authenticated"] is True
    assert identity_calls["GetId"] == 1  # the guest's; the login reused it


def test_a_returning_user_keeps_their_identity_and_leaves_the_guest_one_alone(shared_site, sandbox, make_user, sign_in):
    """AWS links a login to one identity: signing in from a guest session gives the user's own identity back."""
    email = make_user()
    sign_in(email)
    own = User.objects.get(email=email).identity_id
    client = Client()
    guest = credentials(client)["identityId"]
    sign_in(email, client=client)

    assert credentials(client)["identityId"] == own != guest
    assert sandbox.client("cognito-identity").describe_identity(IdentityId=guest)["Logins"] == []


# --- refreshing ID tokens -------------------------------------------------------------------


def test_an_expired_id_token_is_refreshed_and_credentials_still_come(shared_site, make_user, sign_in):
    """With the stored ID token past its expiry, a credentials request refreshes it (REFRESH_TOKEN_AUTH) and succeeds."""
    email = make_user()
    client = sign_in(email)
    old = dict(client.session[SESSION_TOKENS])
    expire_id_token(client)

    answer = credentials(client)
    assert answer["authenticated"] is True and answer["identityId"] == User.objects.get(email=email).identity_id
    new = client.session[SESSION_TOKENS]
    assert new["id"] != old["id"] and new["access"] != old["access"]
    assert new["refresh"] == old["refresh"]
    assert new["expires_at"] > time.time() + 3000


@pytest.mark.parametrize("revoke", ["GlobalSignOut by an administrator", "user deleted", "user disabled"])
def test_a_failed_refresh_signs_the_user_out(shared_site, sandbox, make_user, sign_in, revoke):
    """When the refresh token no longer works, the API answers 401 and the session is signed out."""
    email = make_user()
    client = sign_in(email)
    idp, pool = sandbox.client("cognito-idp"), shared_site.user_pool_id
    {
        "GlobalSignOut by an administrator": lambda: idp.admin_user_global_sign_out(UserPoolId=pool, Username=email),
        "user deleted": lambda: idp.admin_delete_user(UserPoolId=pool, Username=email),
        "user disabled": lambda: idp.admin_disable_user(UserPoolId=pool, Username=email),
    }[revoke]()
    expire_id_token(client)

    response = client.post(API)
    assert response.status_code == 401
    assert response.json() == {"error": "Your session has ended. Please sign in again."}
    assert "_auth_user_id" not in client.session and SESSION_TOKENS not in client.session
    assert credentials(client)["authenticated"] is False  # from now on, a guest
