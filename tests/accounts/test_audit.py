"""The audit trail: one AuditEvent per credential issued or refused, with who
asked (user, sub, identity, provider, IP, user agent), the outcome and the
error code, written to the log and shown read-only in the admin."""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.test import Client

from accounts.models import AuditEvent, User
from accounts.store import SESSION_CREDENTIALS, SESSION_TOKENS

API = "/api/credentials"
AGENT = "Mozilla/5.0 (audit test)"


def _expiration(answer: dict) -> dt.datetime:
    return dt.datetime.strptime(answer["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)


def test_a_signed_in_issuance_is_recorded_with_who_asked(shared_site, make_user, sign_in):
    """User, sub, identity, provider, authenticated, expiration, IP and user agent of the request, outcome issued."""
    email = make_user()
    client = sign_in(email)
    answer = client.post(API, REMOTE_ADDR="203.0.113.5", HTTP_USER_AGENT=AGENT).json()
    user = User.objects.get(email=email)

    event = AuditEvent.objects.get()
    assert event.outcome == AuditEvent.Outcome.ISSUED and event.error_code == ""
    assert event.user == user and event.sub == user.username == user.cognito_sub
    assert event.identity_id == answer["identityId"] == user.identity_id
    assert event.provider == shared_site.provider
    assert event.authenticated is True
    assert event.expiration.replace(microsecond=0) == _expiration(answer)
    assert event.client_ip == "203.0.113.5" and event.user_agent == AGENT


def test_a_guest_issuance_is_recorded_without_a_user(shared_site):
    """A guest: no user, sub or provider; the guest identity, authenticated false."""
    answer = Client().post(API, HTTP_USER_AGENT=AGENT).json()
    event = AuditEvent.objects.get()
    assert (event.outcome, event.user, event.sub, event.provider, event.authenticated) == ("issued", None, "", "", False)
    assert event.identity_id == answer["identityId"]
    assert event.client_ip == "127.0.0.1" and event.user_agent == AGENT


def test_reused_credentials_are_not_a_new_issuance(shared_site, make_user, sign_in):
    """Three requests answered from one GetCredentialsForIdentity: one row."""
    client = sign_in(make_user())
    for _ in range(3):
        client.post(API)
    assert AuditEvent.objects.count() == 1


def test_a_guest_linked_at_sign_in_is_recorded_once_for_the_guest_and_once_for_the_user(shared_site, make_user, sign_in):
    """Linking issues authenticated credentials at sign-in: a guest row, then an issued row for the user on the same identity."""
    client = Client()
    guest = client.post(API).json()["identityId"]
    sign_in(make_user(), client=client)
    rows = list(AuditEvent.objects.order_by("pk").values_list("authenticated", "identity_id", "outcome"))
    assert rows == [(False, guest, "issued"), (True, guest, "issued")]


def test_a_refusal_for_guests_disabled_is_recorded(shared_site, settings):
    """ALLOW_GUESTS=False: a refused row with error code GuestsDisabled."""
    settings.ALLOW_GUESTS = False
    Client().post(API, HTTP_USER_AGENT=AGENT)
    event = AuditEvent.objects.get()
    assert (event.outcome, event.authenticated, event.error_code, event.user) == ("refused", False, "GuestsDisabled", None)
    assert event.expiration is None and event.user_agent == AGENT


def test_a_refusal_by_the_identity_pool_is_recorded_with_its_code(shared_site, sandbox, make_user, sign_in):
    """After an administrator's GlobalSignOut, ServerSideTokenCheck refuses the ID token: 403, refused row with NotAuthorizedException."""
    email = make_user()
    client = sign_in(email)
    sandbox.client("cognito-idp").admin_user_global_sign_out(UserPoolId=shared_site.user_pool_id, Username=email)
    session = client.session
    session.pop(SESSION_CREDENTIALS, None)
    session.save()

    response = client.post(API)
    assert response.status_code == 403 and response.json() == {"error": "Access was refused. Please sign in again."}
    user = User.objects.get(email=email)
    event = AuditEvent.objects.filter(outcome="refused").get()
    assert (event.user, event.sub, event.identity_id) == (user, user.username, user.identity_id)
    assert (event.authenticated, event.provider, event.error_code) == (True, shared_site.provider, "NotAuthorizedException")


def test_a_refusal_after_a_failed_refresh_names_the_user_it_signed_out(shared_site, sandbox, make_user, sign_in):
    """A refresh that fails signs the user out; the refused row still says whose session it was (user, sub, identity)."""
    email = make_user()
    client = sign_in(email)
    sandbox.client("cognito-idp").admin_user_global_sign_out(UserPoolId=shared_site.user_pool_id, Username=email)
    session = client.session
    session[SESSION_TOKENS] = {**session[SESSION_TOKENS], "expires_at": int(time.time()) - 60}
    session.pop(SESSION_CREDENTIALS, None)
    session.save()

    assert client.post(API).status_code == 401
    user = User.objects.get(email=email)
    event = AuditEvent.objects.filter(outcome="refused").get()
    assert (event.authenticated, event.error_code, event.provider) == (True, "SessionExpired", shared_site.provider)
    assert (event.user, event.sub, event.identity_id) == (user, user.username, user.identity_id)


def test_every_event_is_written_to_the_log(shared_site, caplog):
    """The photoshare.audit logger gets one line per event, with the outcome and identity."""
    caplog.set_level(logging.INFO, logger="photoshare.audit")
    answer = Client().post(API).json()
    lines = [r.getMessage() for r in caplog.records if r.name == "photoshare.audit"]
    assert len(lines) == 1
    assert lines[0].startswith("credentials issued:") and f"identity={answer['identityId']}" in lines[0]


def test_the_admin_lists_events_read_only(shared_site, django_user_model):
    """Staff see the events in the admin; nobody can add, change or delete one."""
    answer = Client().post(API).json()
    admin = Client()
    admin.force_login(django_user_model.objects.create_superuser("admin", "admin@example.com", "x"))
    listing = admin.get("/admin/accounts/auditevent/")
    assert listing.status_code == 200 and answer["identityId"] in listing.content.decode()
    event = AuditEvent.objects.get()
    assert admin.get("/admin/accounts/auditevent/add/").status_code == 403
    assert admin.post(f"/admin/accounts/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin.post(f"/admin/accounts/auditevent/{event.pk}/change/", {"outcome": "issued"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk, outcome="issued").exists()
