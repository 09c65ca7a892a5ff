"""accounts.store.CredentialStore on its own, over a plain dict instead of a
Django session (no server, no database): when cached credentials are reused,
whose they are, and what the session keeps of the tokens."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.cognito import Credentials, Tokens
from accounts.store import REFRESH_BEFORE, REUSE_UNTIL, SESSION_CREDENTIALS, CredentialStore, SessionTokens

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.timezone.utc)


def _credentials(expiration: dt.datetime) -> Credentials:
    return Credentials("us-east-1:0000", "ASIAEXAMPLE", "secret", "session-token", expiration)


# (time left before the credentials expire, reused?)
MARGIN = [
    (dt.timedelta(minutes=5, seconds=1), True),
    (dt.timedelta(minutes=4, seconds=59), False),
    (REUSE_UNTIL, False),
    (dt.timedelta(hours=1), True),
    (-dt.timedelta(seconds=1), False),
]


@pytest.mark.parametrize("left, reused", MARGIN, ids=[f"{left} left" for left, _ in MARGIN])
def test_credentials_are_reused_only_with_more_than_five_minutes_left(left, reused):
    """Credentials expiring in 5:01 are answered from the cache; in 4:59 (or less) they are not."""
    store = CredentialStore({})
    store.credentials_keep(_credentials(NOW + left), owner=7)
    cached = store.credentials_cached(owner=7, now=NOW)
    assert (cached is not None) is reused
    if reused:
        assert cached.credentials == _credentials(NOW + left) and cached.authenticated is True


# (whose credentials are cached, who asks, reused?)
OWNERS = [(7, 7, True), (7, 8, False), (7, None, False), (None, 7, False), (None, None, True)]


@pytest.mark.parametrize("kept_for, asker, reused", OWNERS)
def test_cached_credentials_are_only_for_whoever_they_were_issued_to(kept_for, asker, reused):
    """A user's credentials never go to another user or to a guest of the same session, nor a guest's to a user."""
    store = CredentialStore({})
    store.credentials_keep(_credentials(NOW + dt.timedelta(hours=1)), owner=kept_for)
    cached = store.credentials_cached(owner=asker, now=NOW)
    assert (cached is not None) is reused
    if reused:
        assert cached.authenticated is (kept_for is not None)


def test_the_cache_is_plain_json_and_forgetting_empties_it():
    """What goes into the session serializes as JSON (the session backend's format), and credentials_forget drops it."""
    import json

    session: dict = {}
    store = CredentialStore(session)
    store.credentials_keep(_credentials(NOW + dt.timedelta(hours=1)), owner=3)
    assert json.loads(json.dumps(session)) == session
    store.credentials_forget()
    assert SESSION_CREDENTIALS not in session and store.credentials_cached(owner=3, now=NOW) is None


def test_tokens_keep_the_username_and_expiry_of_the_verified_claims_and_the_held_refresh_token():
    """Sign-in keeps all three tokens; a refresh (no new refresh token) keeps the one held."""
    store = CredentialStore({})
    assert store.tokens is None
    claims = {"sub": "sub-1", "cognito:username": "user-1", "exp": 1_800_000_000}
    store.tokens_keep(Tokens("id-1", "access-1", "refresh-1"), claims)
    store.tokens_keep(Tokens("id-2", "access-2", None), {**claims, "exp": 1_800_003_600})
    assert store.tokens == SessionTokens("id-2", "access-2", "refresh-1", "user-1", 1_800_003_600)


@pytest.mark.parametrize("left, expiring", [(REFRESH_BEFORE + dt.timedelta(seconds=1), False), (REFRESH_BEFORE, True)])
def test_an_id_token_is_refreshed_a_minute_before_it_expires(left, expiring):
    """SessionTokens.expiring: true from one minute before `exp`."""
    held = SessionTokens("id", "access", "refresh", "user", int((NOW + left).timestamp()))
    assert held.expiring(now=NOW) is expiring


def test_a_guest_identity_is_kept_until_cleared():
    """The guest identity ID lives in the session; setting it to "" removes it."""
    session: dict = {}
    store = CredentialStore(session)
    assert store.guest_identity_id == ""
    store.guest_identity_id = "us-east-1:guest"
    assert CredentialStore(session).guest_identity_id == "us-east-1:guest"
    store.guest_identity_id = ""
    assert session == {}
