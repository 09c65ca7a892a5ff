"""inspector/services.py: the role each session gets and why, and the join of
the audit trail with the sandbox's trail ("who got which role") with two
users, a guest and a moderator, against the real sandbox."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import AuditEvent, User
from inspector import services
from tests.actors import page_sign_in

pytestmark = pytest.mark.django_db


def _credentials(client: Client) -> dict[str, str]:
    response = client.post("/api/credentials")
    assert response.status_code == 200, response.content
    return response.json()


def _s3(sandbox, answer: dict[str, str]):
    return sandbox.client(
        "s3",
        {"aws_access_key_id": answer["accessKeyId"], "aws_secret_access_key": answer["secretAccessKey"], "aws_session_token": answer["sessionToken"]},
    )


def _denied(s3, **call) -> None:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError):
        s3.get_object(**call)


def test_who_got_which_role(shared_site, sandbox, settings):
    """alice, bob, a guest and carol each get one line: their email (or guest), identity, role, S3 calls and denials."""
    name = settings.PHOTOSHARE_NAME
    since = AuditEvent.objects.order_by("-created_at").values_list("created_at", flat=True).first()
    clients = {
        "alice": page_sign_in("alice@example.com", settings.DEMO_PASSWORD),
        "bob": page_sign_in("bob@example.com", settings.DEMO_PASSWORD),
        "guest": Client(),
        "carol": page_sign_in("carol@example.com", settings.DEMO_PASSWORD),
    }
    answers = {who: _credentials(client) for who, client in clients.items()}
    bucket = shared_site.bucket
    # alice: one allowed list of her own prefix, two refused reads; bob: one refused read; the guest: one.
    alice = _s3(sandbox, answers["alice"])
    alice.list_objects_v2(Bucket=bucket, Prefix=f"private/{answers['alice']['identityId']}/")
    _denied(alice, Bucket=bucket, Key=f"private/{answers['bob']['identityId']}/a.jpg")
    _denied(alice, Bucket=bucket, Key=f"private/{answers['bob']['identityId']}/b.jpg")
    _denied(_s3(sandbox, answers["bob"]), Bucket=bucket, Key=f"private/{answers['alice']['identityId']}/a.jpg")
    _denied(_s3(sandbox, answers["guest"]), Bucket=bucket, Key=f"private/{answers['alice']['identityId']}/a.jpg")

    events = list(AuditEvent.objects.filter(outcome=AuditEvent.Outcome.ISSUED, **({"created_at__gt": since} if since else {})))
    trail = services.trail_read(since=min(e.created_at for e in events) - services.JOIN_WINDOW)
    assert trail.available
    lines = {grant.event.identity_id: grant for grant in services.role_grants(events=events, trail=trail, deployment=shared_site)}

    expected = {
        "alice": ("alice@example.com", f"{name}-authenticated", 3, 2, "from the user pool"),
        "bob": ("bob@example.com", f"{name}-authenticated", 1, 1, "from the user pool"),
        "guest": ("a guest", f"{name}-unauthenticated", 1, 1, "as a guest"),
        "carol": ("carol@example.com", f"{name}-moderator", 0, 0, "from the user pool"),
    }
    for who, (person, role, calls, denied, source) in expected.items():
        grant = lines[answers[who]["identityId"]]
        assert grant.access_key_id == answers[who]["accessKeyId"], who
        assert (grant.calls, grant.denied) == (calls, denied), who
        line = grant.line
        assert line.startswith(f"{person}, identity {answers[who]['identityId']}, got role ") or who == "carol", line
        assert source in line and f"{calls} S3 call" in line and f"{denied} denied" in line, line
        if who != "carol":  # carol made no call, so the trail shows no role for her key yet
            assert f"got role {role} at " in line, line


def test_a_grant_without_a_trail_says_so(shared_site, settings):
    """With the trail unreadable (AWS mode), each audit row still reads as a line, saying what is missing."""
    page_sign_in("alice@example.com", settings.DEMO_PASSWORD).post("/api/credentials")
    settings.PHOTOSHARE_AWS = "aws"
    trail = services.trail_read(since=None)
    assert not trail.available
    event = AuditEvent.objects.filter(user__email="alice@example.com", outcome="issued").first()
    [grant] = services.role_grants(events=[event], trail=trail, deployment=None)
    assert grant.line.startswith("alice@example.com, identity us-east-1:")
    assert "no matching GetCredentialsForIdentity in the sandbox's trail" in grant.line


@pytest.mark.parametrize(
    "who, kind, phrase",
    [
        (None, "unauthenticated", "You are a guest"),
        ("alice@example.com", "authenticated", "AmbiguousRoleResolution: AuthenticatedRole"),
        ("carol@example.com", "moderator", "cognito:preferred_role"),
    ],
)
def test_the_role_expected_and_why(shared_site, settings, who, kind, phrase):
    """The identity pool's choice per visitor, from the session's verified token claims."""
    from accounts.store import CredentialStore

    client = page_sign_in(who, settings.DEMO_PASSWORD) if who else Client()
    client.get("/")
    session = client.session
    user = User.objects.get(email=who) if who else None
    choice = services.role_expected(user=user, store=CredentialStore(session), deployment=shared_site)
    assert choice.kind == kind and phrase in choice.reason
    assert choice.name == f"{settings.PHOTOSHARE_NAME}-{kind}"


def test_a_decision_is_only_for_its_own_identity(shared_site, sandbox):
    """Another identity's decision is NotYours, exactly like an unknown id."""
    from botocore.exceptions import ClientError

    from tests.actors import guest_credentials

    identity_id, credentials = guest_credentials(sandbox, shared_site)
    with pytest.raises(ClientError) as refused:
        sandbox.client("s3", credentials).get_object(Bucket=shared_site.bucket, Key="private/x/y.jpg")
    request_id = refused.value.response["ResponseMetadata"]["RequestId"]
    assert services.decision_for(request_id=request_id, identity_id=identity_id)["principal"]["identityId"] == identity_id
    with pytest.raises(services.NotYours):
        services.decision_for(request_id=request_id, identity_id="us-east-1:00000000-0000-4000-8000-000000000001")
    with pytest.raises(services.NotYours):
        services.decision_for(request_id=request_id, identity_id="")


# --- an SSO session: the provider, the claim and the rule (issue 16) ------------------------

@pytest.mark.parametrize(
    "match_type, value, claims, matches",
    [
        ("Equals", "wintercorp.com", {"hd": "wintercorp.com"}, True),
        ("Equals", "wintercorp.com", {"hd": "wintercorp.com.evil.example"}, False),
        ("Contains", "wintercorp.com", {"hd": "wintercorp.com.evil.example"}, True),
        ("StartsWith", "wintercorp", {"hd": "wintercorp.com"}, True),
        ("StartsWith", "wintercorp", {"hd": "example.org"}, False),
        ("NotEqual", "wintercorp.com", {"hd": "example.org"}, True),
        ("NotEqual", "wintercorp.com", {}, False),  # skipped when the claim is missing
        ("Equals", "wintercorp.com", {}, False),
        ("Matches", "wintercorp.com", {"hd": "wintercorp.com"}, False),  # no such MatchType
    ],
)
def test_a_rule_matches_as_cognito_matches(match_type, value, claims, matches):
    """Each MatchType of a Rules mapping against a token's claims."""
    rule = {"Claim": "hd", "MatchType": match_type, "Value": value, "RoleARN": "arn:aws:iam::123456789012:role/r"}
    assert services.rule_matches(rule, claims) is matches


def _sso_choice(email: str) -> services.RoleChoice:
    from accounts.store import CredentialStore
    from core.deployment import deployment_get
    from tests.actors import sso_client_sign_in

    client = sso_client_sign_in(email)
    user = User.objects.get(pk=client.session["_auth_user_id"])
    return services.role_expected(user=user, store=CredentialStore(client.session), deployment=deployment_get())


def test_dana_gets_the_team_role_by_the_hd_rule(sso_site):
    """dana: the provider (issuer), hd = wintercorp.com, and the rule hd Equals wintercorp.com -> the team role."""
    from accounts import oidc

    choice = _sso_choice("dana@wintercorp.com")
    assert (choice.arn, choice.kind) == (sso_site.team_role_arn, "team")
    assert (choice.sso.issuer, choice.sso.provider) == (oidc.issuer(), oidc.provider_name())
    assert (choice.sso.claim, choice.sso.claim_value) == ("hd", "wintercorp.com")
    assert choice.sso.rule == {"Claim": "hd", "MatchType": "Equals", "Value": "wintercorp.com", "RoleARN": sso_site.team_role_arn}
    assert choice.sso.rule_text == f"Claim hd, MatchType Equals, Value wintercorp.com → RoleARN {sso_site.team_role_arn}"
    assert "hd is wintercorp.com" in choice.reason


def test_frank_matches_no_rule_and_gets_the_authenticated_role(sso_site):
    """frank has no hd: no rule matched, AmbiguousRoleResolution AuthenticatedRole gives the authenticated role."""
    choice = _sso_choice("frank@example.org")
    assert (choice.arn, choice.kind) == (sso_site.authenticated_role_arn, "authenticated")
    assert (choice.sso.claim, choice.sso.claim_value, choice.sso.rule) == ("hd", None, None)
    assert choice.sso.rule_text == "no rule matched: AmbiguousRoleResolution AuthenticatedRole"


def test_a_deny_fallback_is_shown_as_no_role(sso_site):
    """With AmbiguousRoleResolution Deny, a session matching no rule is expected to get no role at all."""
    from accounts import oidc
    from accounts.store import CredentialStore
    from core.aws import aws_client
    from core.deployment import deployment_get
    from tests.actors import sso_client_sign_in

    client = sso_client_sign_in("frank@example.org")  # signed in while the fallback still gave a role
    identity = aws_client("cognito-identity")
    roles = identity.get_identity_pool_roles(IdentityPoolId=sso_site.identity_pool_id)
    roles["RoleMappings"][oidc.provider_name()]["AmbiguousRoleResolution"] = "Deny"
    identity.set_identity_pool_roles(IdentityPoolId=sso_site.identity_pool_id, Roles=roles["Roles"], RoleMappings=roles["RoleMappings"])
    user = User.objects.get(pk=client.session["_auth_user_id"])
    choice = services.role_expected(user=user, store=CredentialStore(client.session), deployment=deployment_get())
    assert (choice.arn, choice.kind) == ("", "denied")
    assert choice.sso.rule_text == "no rule matched: AmbiguousRoleResolution Deny"
    assert "refuses credentials" in choice.reason
