"""The sign-in link pages through the test client, against the real sandbox:
asking for a link (the same answer for any address, rate-limited), following
it (the server's GetOpenIdTokenForDeveloperIdentity, then the enhanced flow),
and what the credentials POST /api/credentials then hands out can do in S3.
A reused, expired or tampered link is a 400 that creates nothing.

Emails are read from Django's test outbox (pytest-django swaps EMAIL_BACKEND
for locmem): that is where OutboxBackend would have kept them."""

from __future__ import annotations

import re
import time
import uuid
from urllib.parse import unquote

import pytest
from botocore.exceptions import ClientError
from django.core import mail, signing
from django.test import Client


from accounts import magic_link
from accounts.models import AuditEvent, UsedSignInLink, User
from core.aws import aws_client
from tests.sandbox_kit import s3_from_answer

REQUEST = "/accounts/sign-in/email-link/"
USE = "/accounts/sign-in/link/"
CSRF = re.compile(r'(name="csrfmiddlewaretoken" value|data-csrf-token)="[^"]+"')
LINK = re.compile(r"http://testserver/accounts/sign-in/link/\?token=(\S+)")


@pytest.fixture
def developer_site(shared_site, settings):
    """The shared deployment's identity pool with the developer provider
    name (what infra/provision.py sets; set here too so these tests do not
    wait on it: it cannot change once set, and this is the same value)."""
    identity = aws_client("cognito-identity")
    pool = identity.describe_identity_pool(IdentityPoolId=shared_site.identity_pool_id)
    pool.pop("ResponseMetadata", None)
    if pool.get("DeveloperProviderName") != settings.PHOTOSHARE_DEVELOPER_PROVIDER:
        identity.update_identity_pool(**{**pool, "DeveloperProviderName": settings.PHOTOSHARE_DEVELOPER_PROVIDER})
    return shared_site


def fresh_email() -> str:
    return f"link-{uuid.uuid4().hex[:12]}@example.org"


def link_ask(client: Client, email: str) -> str:
    """Ask for a link for `email`; the token of the link emailed."""
    mail.outbox.clear()
    response = client.post(REQUEST, {"email": email})
    assert response.status_code == 302
    (sent,) = [m for m in mail.outbox if m.to == [email]]
    return unquote(LINK.search(sent.body).group(1))


def link_follow(client: Client, token: str):
    return client.post(USE, {"token": token})


# --- asking for a link ---------------------------------------------------------------------


def test_the_sign_in_page_offers_the_link(db):
    page = Client().get("/accounts/sign-in/").content.decode()
    assert 'href="/accounts/sign-in/email-link/"' in page and "Email me a sign-in link" in page


def test_any_address_gets_the_same_answer(developer_site):
    """No enumeration: a known address (signed in before) and a new one read the same."""
    known, unknown = fresh_email(), fresh_email()
    client = Client()
    link_follow(client, link_ask(client, known))
    answers = []
    for email in (known, unknown):
        response = Client().post(REQUEST, {"email": email}, follow=True)
        page = CSRF.sub("", response.content.decode().replace(email, "EMAIL"))  # a fresh token per client
        answers.append((response.status_code, page))
    assert answers[0] == answers[1] and answers[0][0] == 200
    assert "a sign-in link is on its way" in answers[0][1]


def test_a_bad_address_is_a_400_and_sends_nothing(db):
    mail.outbox.clear()
    response = Client().post(REQUEST, {"email": "not an email"})
    assert response.status_code == 400
    assert mail.outbox == []


def test_asking_is_rate_limited(db):
    """Five links per address and client in five minutes (CODE_LIMITS), then a 429 with Retry-After and no email."""
    email, client = fresh_email(), Client()
    for _ in range(5):
        assert client.post(REQUEST, {"email": email}).status_code == 302
    mail.outbox.clear()
    refused = client.post(REQUEST, {"email": email})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "Too many attempts" in refused.content.decode()
    assert mail.outbox == []


# --- following it ----------------------------------------------------------------------


def test_following_the_link_shows_a_button_and_uses_nothing(developer_site):
    """A GET (a mail scanner's, say) neither signs in nor uses up the link."""
    email, client = fresh_email(), Client()
    token = link_ask(client, email)
    page = client.get(USE, {"token": token})
    assert page.status_code == 200
    assert email in page.content.decode() and 'data-testid="sign-in-link-use"' in page.content.decode()
    assert not UsedSignInLink.objects.exists() and not User.objects.filter(email=email).exists()
    assert "_auth_user_id" not in client.session


def test_a_link_user_signs_in_gets_credentials_and_uploads_to_their_prefix(developer_site, settings):
    email, client = fresh_email(), Client()
    response = link_follow(client, link_ask(client, email))
    assert response.status_code == 302 and response["Location"] == "/"

    user = User.objects.get(email=email)
    assert user.username == "magic:" + magic_link.developer_user_id_for(email)
    assert not user.has_usable_password()
    assert client.session["_auth_user_id"] == str(user.pk)
    assert "cognito.tokens" not in client.session  # no user pool involved

    answer = client.post("/api/credentials").json()
    assert answer["authenticated"] is True
    assert answer["identityId"] == user.identity_id != ""

    # The identity is the pool's developer identity for this user id, as AWS itself says.
    found = aws_client("cognito-identity").lookup_developer_identity(
        IdentityPoolId=developer_site.identity_pool_id,
        DeveloperUserIdentifier=magic_link.developer_user_id_for(email),
    )
    assert found["IdentityId"] == user.identity_id

    s3 = s3_from_answer(answer)
    mine = f"private/{answer['identityId']}/{uuid.uuid4().hex}.jpg"
    s3.put_object(Bucket=answer["bucket"], Key=mine, Body=b"from a link")
    assert aws_client("s3").get_object(Bucket=answer["bucket"], Key=mine)["Body"].read() == b"from a link"
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=answer["bucket"], Key=f"private/us-east-1:{uuid.uuid4()}/x.jpg", Body=b"not mine")
    assert refused.value.response["Error"]["Code"] == "AccessDenied"

    issued = AuditEvent.objects.filter(user=user, outcome=AuditEvent.Outcome.ISSUED).first()
    assert issued.provider == settings.PHOTOSHARE_DEVELOPER_PROVIDER


def test_the_same_email_is_the_same_identity_next_time(developer_site):
    email = fresh_email()
    identities = []
    for _ in range(2):
        client = Client()
        link_follow(client, link_ask(client, email))
        identities.append(client.post("/api/credentials").json()["identityId"])
    assert identities[0] == identities[1]
    assert User.objects.filter(email=email).count() == 1


def test_a_guest_who_signs_in_with_a_link_keeps_their_identity(developer_site, settings):
    settings.ALLOW_GUESTS = True
    client = Client()
    guest = client.post("/api/credentials").json()
    assert guest["authenticated"] is False
    link_follow(client, link_ask(client, fresh_email()))
    signed_in = client.post("/api/credentials").json()
    assert signed_in["authenticated"] is True and signed_in["identityId"] == guest["identityId"]


def test_new_credentials_come_without_a_new_link(developer_site):
    """When the cached credentials are gone, the server asks for a new token itself."""
    email, client = fresh_email(), Client()
    link_follow(client, link_ask(client, email))
    first = client.post("/api/credentials").json()
    session = client.session
    session.pop("cognito.credentials")
    session.save()
    again = client.post("/api/credentials").json()
    assert again["accessKeyId"] != first["accessKeyId"] and again["identityId"] == first["identityId"]


def test_a_reused_link_is_refused(developer_site):
    email, client = fresh_email(), Client()
    token = link_ask(client, email)
    assert link_follow(client, token).status_code == 302
    other = Client()
    for response in (link_follow(other, token), other.get(USE, {"token": token})):
        assert response.status_code == 400
        assert "expired or has been used already" in response.content.decode()
    assert "_auth_user_id" not in other.session


def _refused_and_nothing_made(client: Client, token: str) -> None:
    users, used = User.objects.count(), UsedSignInLink.objects.count()
    for response in (link_follow(client, token), client.get(USE, {"token": token})):
        assert response.status_code == 400
        assert "expired or has been used already" in response.content.decode()
    assert (User.objects.count(), UsedSignInLink.objects.count()) == (users, used)
    assert "_auth_user_id" not in client.session


class _SignedInThePast(signing.TimestampSigner):
    def timestamp(self) -> str:
        return signing.b62_encode(int(time.time()) - magic_link.LINK_MAX_AGE - 60)


def test_an_expired_link_is_refused(developer_site):
    token = magic_link.link_token(email=fresh_email(), signer=_SignedInThePast(salt=magic_link.SALT))
    _refused_and_nothing_made(Client(), token)


def test_a_tampered_link_is_refused(developer_site):
    email, client = fresh_email(), Client()
    token = link_ask(client, email)
    value, stamp, signature = token.rsplit(":", 2)
    forged_payload = magic_link.link_token(email="victim@example.org").rsplit(":", 2)[0]
    _refused_and_nothing_made(client, f"{forged_payload}:{stamp}:{signature}")
    _refused_and_nothing_made(client, f"{value}:{stamp}:{signature[::-1]}")
    _refused_and_nothing_made(client, "")


def test_a_deactivated_link_user_cannot_sign_in(developer_site):
    email, client = fresh_email(), Client()
    link_follow(client, link_ask(client, email))
    User.objects.filter(email=email).update(is_active=False)
    other = Client()
    response = link_follow(other, link_ask(other, email))
    assert response.status_code == 403
    assert "_auth_user_id" not in other.session


def test_when_the_identity_pool_refuses_nobody_is_signed_in_and_the_link_stays_good(shared_site, settings):
    """A developer provider name the pool does not have: AWS refuses the
    token; the person sees the fixed message, is not signed in, and can use
    the same link again once it works."""
    settings.PHOTOSHARE_DEVELOPER_PROVIDER = "not.this.pools"
    email, client = fresh_email(), Client()
    token = link_ask(client, email)
    response = link_follow(client, token)
    assert response.status_code == 503
    assert "Something went wrong on our side" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not UsedSignInLink.objects.exists()
