""""Sign in with Winter Corp SSO" through the test client, against the real
sandbox's OIDC provider and identity pool: the code flow is driven over HTTP
(the app's start route and callback with the test client, the provider's
sign-in page with requests), and what POST /api/credentials then hands out
is checked with STS. Every refusal is the sign-in page with a fixed message
that signs no one in and creates no user."""

from __future__ import annotations

import datetime as dt
import html
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from accounts import oidc, views
from accounts.models import AuditEvent, User
from accounts.store import SESSION_SSO
from core.aws import aws_client
from tests.actors import sso_callback_url, sso_client_sign_in

CREDENTIALS = "/api/credentials"
SIGN_IN = "/accounts/sign-in/"


def assumed_role(sso_site, answer: dict) -> str:
    """The role name the credentials act as, from STS GetCallerIdentity signed with them."""
    sts = boto3.client(
        "sts",
        endpoint_url=aws_client("sts").meta.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=answer["accessKeyId"],
        aws_secret_access_key=answer["secretAccessKey"],
        aws_session_token=answer["sessionToken"],
    )
    return sts.get_caller_identity()["Arn"].split("/")[1]


def role_name(arn: str) -> str:
    return arn.rsplit("/", 1)[1]


def signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


@pytest.mark.parametrize(
    "email, role",
    [("dana@wintercorp.com", "team"), ("erin@wintercorp.com", "team"), ("frank@example.org", "authenticated")],
)
def test_the_rules_mapping_on_hd_picks_the_role(sso_site, email, role):
    """dana and erin (hd wintercorp.com) get the team role, frank the authenticated role; the trail names the provider."""
    client = sso_client_sign_in(email)
    answer = client.post(CREDENTIALS)
    assert answer.status_code == 200, answer.content
    expected = sso_site.team_role_arn if role == "team" else sso_site.authenticated_role_arn
    assert assumed_role(sso_site, answer.json()) == role_name(expected)
    assert answer.json()["authenticated"] is True
    user = User.objects.get(email=email)
    assert answer.json()["identityId"] == user.identity_id
    issued = AuditEvent.objects.filter(user=user, outcome=AuditEvent.Outcome.ISSUED)
    assert issued.exists() and {e.provider for e in issued} == {oidc.provider_name()}
    assert oidc.provider_name() == urlsplit(oidc.issuer()).netloc + "/_sandbox/oidc"


def test_a_user_is_keyed_on_issuer_and_sub_never_on_email(sso_site):
    """An existing user with dana's email stays untouched; dana's SSO user is keyed on (iss, sub), and found again by it."""
    same_email = User.objects.create(username="some-user-pool-sub", email="dana@wintercorp.com")
    client = sso_client_sign_in("dana@wintercorp.com")
    user = User.objects.get(pk=client.session[SESSION_KEY])
    assert user.pk != same_email.pk
    claims = client.session[SESSION_SSO]["claims"]
    assert (user.oidc_issuer, user.oidc_subject) == (claims["iss"], claims["sub"]) == (oidc.issuer(), claims["sub"])
    assert user.username == oidc.username_for(iss=claims["iss"], sub=claims["sub"])
    assert user.email == "dana@wintercorp.com" and not user.has_usable_password()
    again = sso_client_sign_in("dana@wintercorp.com")
    assert again.session[SESSION_KEY] == client.session[SESSION_KEY]
    assert User.objects.filter(oidc_issuer=oidc.issuer()).count() == 1


def test_the_session_expires_with_the_id_token(sso_site):
    """No refresh token: the session's expiry is the ID token's exp, and the token stays server-side."""
    client = sso_client_sign_in("frank@example.org")
    held = client.session[SESSION_SSO]
    assert client.session.get_expiry_date() == dt.datetime.fromtimestamp(held["claims"]["exp"], dt.timezone.utc)
    assert held["id_token"].count(".") == 2 and held["provider"] == oidc.provider_name()
    assert held["id_token"] not in client.post(CREDENTIALS).content.decode()


def test_credentials_are_refused_once_the_id_token_has_expired(sso_site):
    """Past the ID token's exp (the clock moved on: the session's copy is backdated) the API answers 401 and signs out."""
    client = sso_client_sign_in("dana@wintercorp.com")
    assert client.post(CREDENTIALS).status_code == 200  # and cached, which must not outlive the token
    session = client.session
    session[SESSION_SSO] = {**session[SESSION_SSO], "claims": {**session[SESSION_SSO]["claims"], "exp": 1_000_000_000}}
    session.save()
    answer = client.post(CREDENTIALS)
    assert answer.status_code == 401 and "session has ended" in answer.json()["error"]
    assert not signed_in(client)
    assert AuditEvent.objects.filter(outcome=AuditEvent.Outcome.REFUSED, error_code="SessionExpired").exists()


def test_a_guest_keeps_their_identity_on_first_sign_in(sso_site):
    """A guest's identity ID becomes the SSO user's, so their guest uploads stay theirs."""
    client = Client()
    guest = client.post(CREDENTIALS).json()["identityId"]
    sso_client_sign_in("erin@wintercorp.com", client=client)
    answer = client.post(CREDENTIALS).json()
    assert answer["identityId"] == guest and answer["authenticated"] is True
    assert assumed_role(sso_site, answer) == role_name(sso_site.team_role_arn)


def _refused(response, message: str, status: int = 400) -> None:
    assert response.status_code == status
    assert html.escape(str(message)) in response.content.decode()
    assert 'data-testid="sso-error"' in response.content.decode()


def _tamper(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return f"{parts.path}?{urlencode(query)}"


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"state": "not-the-state-we-sent"}, id="state-mismatch"),
        pytest.param({"code": "a-code-the-provider-never-issued"}, id="code-refused-by-the-token-endpoint"),
        pytest.param({"error": "access_denied", "error_description": "The person cancelled."}, id="provider-error"),
    ],
)
def test_a_bad_callback_is_a_fixed_message_and_nobody_signed_in(sso_site, changes):
    """A tampered state, a code the provider refuses, or ?error=access_denied: the sign-in page's message, no user."""
    client = Client()
    url = _tamper(sso_callback_url("frank@example.org", client=client), **changes)
    response = client.get(url)
    _refused(response, views.SSO_CANCELLED if "error" in changes else views.SSO_FAILED)
    assert not signed_in(client)
    assert not User.objects.filter(email="frank@example.org").exists()


def test_a_callback_with_no_sign_in_started_is_refused(sso_site):
    """A callback in another browser (the attacker's code, the victim's session) signs no one in."""
    url = sso_callback_url("frank@example.org", client=Client())
    victim = Client()
    _refused(victim.get(url), views.SSO_FAILED)
    assert not signed_in(victim) and not User.objects.filter(email="frank@example.org").exists()


def test_a_replayed_callback_is_refused(sso_site):
    """The same state and code twice: the second is refused (the state was used up), the first sign-in stands."""
    client = Client()
    url = sso_callback_url("frank@example.org", client=client)
    assert client.get(url).status_code == 302
    _refused(client.get(url), views.SSO_FAILED)


def test_the_identity_pool_refusing_creates_no_user(sso_site):
    """A Rules mapping with Deny for frank: GetCredentialsForIdentity refuses, the page says so, and nothing is left behind."""
    identity = aws_client("cognito-identity")
    roles = identity.get_identity_pool_roles(IdentityPoolId=sso_site.identity_pool_id)
    mappings = roles["RoleMappings"]
    mappings[oidc.provider_name()]["AmbiguousRoleResolution"] = "Deny"
    identity.set_identity_pool_roles(IdentityPoolId=sso_site.identity_pool_id, Roles=roles["Roles"], RoleMappings=mappings)
    client = Client()
    response = client.get(sso_callback_url("frank@example.org", client=client))
    _refused(response, views.SSO_NO_ACCESS, status=403)
    assert not signed_in(client) and SESSION_SSO not in client.session
    assert not User.objects.filter(email="frank@example.org").exists()
    assert sso_client_sign_in("dana@wintercorp.com").post(CREDENTIALS).status_code == 200  # the rule still matches dana


def test_the_button_shows_only_with_an_issuer(sso_site, settings):
    """The sign-in page offers SSO when OIDC_ISSUER is set; without it, no button and the routes are 404."""
    assert 'data-testid="sso-sign-in"' in Client().get(SIGN_IN).content.decode()
    settings.OIDC_ISSUER = ""
    assert 'data-testid="sso-sign-in"' not in Client().get(SIGN_IN).content.decode()
    assert Client().get("/accounts/oidc/start/").status_code == 404
    assert Client().get("/accounts/oidc/callback/?code=x&state=y").status_code == 404


def test_a_provider_that_does_not_answer_is_a_fixed_message(sso_site, settings):
    """Discovery unreachable: the start route shows the sign-in page with a 503, not a 500."""
    settings.OIDC_ISSUER = "http://127.0.0.1:9/_sandbox/oidc"  # the discard port: nothing listens
    oidc.discovery_forget()
    _refused(Client().get("/accounts/oidc/start/"), views.SSO_UNAVAILABLE, status=503)


def test_start_sends_the_browser_to_the_issuer_with_pkce_and_nonce(sso_site):
    """The authorization request: the issuer's authorize URL (localhost), S256 PKCE, state, nonce, our callback."""
    client = Client()
    location = client.get("/accounts/oidc/start/", {"next": "https://evil.example/"})["Location"]
    assert location.startswith(oidc.issuer() + "/authorize?") and urlsplit(location).hostname == "localhost"
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["redirect_uri"] == "http://testserver/accounts/oidc/callback/"
    assert query["state"] in client.session["oidc_states"] and query["nonce"]
    assert client.session["oidc_login_next"] is None  # another site's next= is dropped


def test_a_deactivated_user_cannot_sign_in_with_sso(sso_site):
    """A user switched off in the admin: the fixed refusal (403), no session, and the row kept as it was."""
    client = sso_client_sign_in("erin@wintercorp.com")
    user = User.objects.get(pk=client.session[SESSION_KEY])
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert client.post(CREDENTIALS).json()["authenticated"] is False  # their open session is a guest's now
    again = Client()
    _refused(again.get(sso_callback_url("erin@wintercorp.com", client=again)), views.SIGN_IN_REFUSED, status=403)
    assert not signed_in(again) and User.objects.filter(pk=user.pk, is_active=False).exists()


def test_signing_out_ends_the_sso_session(sso_site):
    """Sign out: the session, its ID token and its credentials are gone; the next credentials are a guest's."""
    client = sso_client_sign_in("dana@wintercorp.com")
    assert client.post("/accounts/sign-out/").status_code == 302
    assert not signed_in(client) and SESSION_SSO not in client.session
    assert client.post(CREDENTIALS).json()["authenticated"] is False
