"""New guest identities per client address (GUEST_IDENTITIES_PER_HOUR),
through POST /api/credentials with fresh test clients, counted in the
identity pool itself with ListIdentities (the admin key)."""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.test import Client

from accounts.models import AuditEvent
from accounts.store import SESSION_CREDENTIALS
from tests.actors import pool_identities

API = "/api/credentials"
CROWD = "198.51.100.40"  # one address, many fresh sessions
ELSEWHERE = "203.0.113.41"
LIMIT = 3


def _fresh_guest(address: str):
    return Client(REMOTE_ADDR=address).post(API)


def test_fresh_sessions_past_the_limit_get_429_and_create_nothing(shared_site, sandbox, settings):
    """A burst of fresh sessions from one address: past the limit 429 + Retry-After, and no GetId, session or audit row."""
    settings.GUEST_IDENTITIES_PER_HOUR = LIMIT
    before = len(pool_identities(sandbox, shared_site.identity_pool_id))

    answers = [_fresh_guest(CROWD) for _ in range(LIMIT + 4)]
    assert [a.status_code for a in answers] == [200] * LIMIT + [429] * 4
    for refused in answers[LIMIT:]:
        assert refused.json() == {"error": "Too many new guest visits from your network. Wait a while and try again, or sign in."}
        assert refused["Cache-Control"] == "no-store"
        assert 0 < int(refused["Retry-After"]) <= 3600
        assert "sessionid" not in refused.cookies
    assert len(pool_identities(sandbox, shared_site.identity_pool_id)) == before + LIMIT
    assert Session.objects.count() == LIMIT
    assert AuditEvent.objects.count() == LIMIT


def test_another_address_is_not_affected(shared_site, sandbox, settings):
    """With one address over the limit, a guest from another address still gets a new identity."""
    settings.GUEST_IDENTITIES_PER_HOUR = LIMIT
    for _ in range(LIMIT + 1):
        _fresh_guest(CROWD)
    before = len(pool_identities(sandbox, shared_site.identity_pool_id))
    assert _fresh_guest(ELSEWHERE).status_code == 200
    assert len(pool_identities(sandbox, shared_site.identity_pool_id)) == before + 1


def test_a_guest_session_keeps_its_identity_past_the_limit(shared_site, settings):
    """A session that already has a guest identity reuses it (no new GetId), even once its address is over the limit."""
    settings.GUEST_IDENTITIES_PER_HOUR = LIMIT
    guest = Client(REMOTE_ADDR=CROWD)
    first = guest.post(API).json()["identityId"]
    for _ in range(LIMIT):
        _fresh_guest(CROWD)
    assert _fresh_guest(CROWD).status_code == 429
    session = guest.session
    session.pop(SESSION_CREDENTIALS)  # as if the cached credentials had expired
    session.save()
    again = guest.post(API)
    assert again.status_code == 200 and again.json()["identityId"] == first


def test_signed_in_users_are_not_counted_as_guests(shared_site, make_user, sign_in, settings):
    """An address over the guest limit can still sign in and get authenticated credentials."""
    settings.GUEST_IDENTITIES_PER_HOUR = 1
    _fresh_guest("127.0.0.1")
    assert _fresh_guest("127.0.0.1").status_code == 429
    client = sign_in(make_user())
    response = client.post(API)
    assert response.status_code == 200 and response.json()["authenticated"] is True
