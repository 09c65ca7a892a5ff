"""An OpenID Connect provider straight into the identity pool, driven over
HTTP with boto3 only: the IAM provider (CRUD, http on loopback only, kept
across a restart), the pool's `OpenIdConnectProviderARNs`, `GetId` and
`GetCredentialsForIdentity` with the provider's ID tokens (each refusal
worded as AWS's), `Rules` role mappings on its claims, and the limits of the
one outbound fetch the sandbox makes (the provider's keys).

The provider is a test issuer of our own (`issuer.py`) on 127.0.0.1, as an
external provider (Google, a company's SSO) would look to the identity pool.
https://docs.aws.amazon.com/cognito/latest/developerguide/open-id.html
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from botocore.exceptions import ClientError

from tests.sandbox.cognito_identity.issuer import Issuer, issuer_running
from tests.sandbox_kit import ACCOUNT_ID, SandboxKit, as_boto3, owner_policy, trust_policy

CLIENT_ID = "photoshare-web"
NOT_SUPPORTED = "Token is not from a supported provider of this identity pool."
WRONG_ISSUER = "Invalid login token. Issuer doesn't match providerName"
BAD_SIGNATURE = "Invalid login token. Couldn't verify signed token."
EXPIRED = "Invalid login token. Token expired: "
MAPPING_DENIED = "The ambiguous role mapping rules denied this request"


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err.get("Message", "")


@dataclass
class OidcPool:
    """An identity pool federating with one test issuer: its IAM provider, an
    authenticated role and a team role."""

    kit: SandboxKit
    issuer: Issuer
    provider_arn: str
    pool_id: str
    roles: dict[str, str]

    def get_id(self, token: str) -> str:
        return self.kit.unsigned("cognito-identity").get_id(
            IdentityPoolId=self.pool_id, Logins={self.issuer.name: token}
        )["IdentityId"]

    def role_of(self, token: str) -> str:
        """The role GetCredentialsForIdentity's credentials act as (its name)."""
        ci = self.kit.unsigned("cognito-identity")
        got = ci.get_credentials_for_identity(IdentityId=self.get_id(token), Logins={self.issuer.name: token})
        arn = self.kit.client("sts", as_boto3(got["Credentials"])).get_caller_identity()["Arn"]
        return arn.split("/")[1]

    def map_rules(self, *rules: tuple[str, str, str, str], ambiguous: str = "AuthenticatedRole") -> None:
        self.kit.client("cognito-identity").set_identity_pool_roles(
            IdentityPoolId=self.pool_id,
            Roles={"authenticated": self.roles["authenticated"]},
            RoleMappings={
                self.issuer.name: {
                    "Type": "Rules",
                    "AmbiguousRoleResolution": ambiguous,
                    "RulesConfiguration": {
                        "Rules": [{"Claim": c, "MatchType": m, "Value": v, "RoleARN": self.roles[r]} for c, m, v, r in rules]
                    },
                }
            },
        )


def provider_create(kit: SandboxKit, url: str, client_ids: list[str] | None = None) -> str:
    return kit.client("iam").create_open_id_connect_provider(
        Url=url, ClientIDList=client_ids if client_ids is not None else [CLIENT_ID], ThumbprintList=["a" * 40]
    )["OpenIDConnectProviderArn"]


def pool_create(kit: SandboxKit, provider_arns: list[str]):
    return kit.client("cognito-identity").create_identity_pool(
        IdentityPoolName=f"oidc_{uuid.uuid4().hex[:8]}",
        AllowUnauthenticatedIdentities=False,
        AllowClassicFlow=False,
        OpenIdConnectProviderARNs=provider_arns,
    )["IdentityPoolId"]


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    with issuer_running() as running:
        yield running


@pytest.fixture
def oidc(sandbox, issuer) -> Iterator[OidcPool]:
    arn = provider_create(sandbox, issuer.url)
    pool_id = pool_create(sandbox, [arn])
    suffix = uuid.uuid4().hex[:8]
    iam = sandbox.client("iam")
    roles = {}
    for name in ("authenticated", "team"):
        role_name = f"oidc-{name}-{suffix}"
        roles[name] = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=trust_policy(pool_id, "authenticated"))["Role"]["Arn"]
        iam.put_role_policy(RoleName=role_name, PolicyName="access", PolicyDocument=json.dumps(owner_policy(f"photos-{suffix}")))
    sandbox.client("cognito-identity").set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": roles["authenticated"]})
    yield OidcPool(sandbox, issuer, arn, pool_id, roles)
    sandbox.client("iam").delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)


# --- accepted ----------------------------------------------------------------------


def test_get_id_accepts_the_token_and_keeps_one_identity_per_sub(oidc):
    """GetId with the provider's ID token: the same sub gets the same identity from a new token, another sub another."""
    first = oidc.get_id(oidc.issuer.token(sub="dana"))
    again = oidc.get_id(oidc.issuer.token(sub="dana", email="dana@wintercorp.com"))
    other = oidc.get_id(oidc.issuer.token(sub="erin"))
    assert first == again != other
    described = oidc.kit.client("cognito-identity").describe_identity(IdentityId=first)
    assert described["Logins"] == [oidc.issuer.name]


def test_credentials_are_the_authenticated_role(oidc):
    """GetCredentialsForIdentity with the token: the pool's authenticated role, its trust checking aud and amr."""
    assert oidc.role_of(oidc.issuer.token(sub="frank")) == oidc.roles["authenticated"].rsplit("/", 1)[1]


def test_token_with_a_list_audience_is_accepted(oidc):
    """An `aud` list is accepted when one of its values is in ClientIDList."""
    assert oidc.get_id(oidc.issuer.token(aud=["someone-else", CLIENT_ID]))


def test_rotated_key_is_fetched_once(oidc):
    """A token signed with a key published after the cache was filled: one refetch, then accepted."""
    oidc.get_id(oidc.issuer.token())
    before = oidc.issuer.hits["/oidc/jwks"]
    oidc.issuer.rotate()
    oidc.get_id(oidc.issuer.token(sub="user-2"))
    oidc.get_id(oidc.issuer.token(sub="user-3"))
    assert oidc.issuer.hits["/oidc/jwks"] == before + 1


# --- refused -----------------------------------------------------------------------


def _tampered(token: str) -> str:
    """The token with its payload changed (sub) and the signature kept."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def _unsigned(token: str) -> str:
    """The token re-headed as alg none, with no signature."""
    _, payload, _ = token.split(".")
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    return f"{header}.{payload}."


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        pytest.param(lambda i: i.token(aud="another-client"), NOT_SUPPORTED, id="wrong-aud"),
        pytest.param(lambda i: i.token(iss="http://127.0.0.1:1/other"), WRONG_ISSUER, id="another-issuer"),
        pytest.param(lambda i: i.token(iss=i.name), WRONG_ISSUER, id="issuer-without-scheme"),
        pytest.param(lambda i: i.token(exp=int(time.time()) - 5), EXPIRED, id="expired"),
        pytest.param(lambda i: _tampered(i.token()), BAD_SIGNATURE, id="tampered"),
        pytest.param(lambda i: _unsigned(i.token()), BAD_SIGNATURE, id="alg-none"),
        pytest.param(lambda i: i.token(aud=None), "Invalid login token. Missing a required claim: aud", id="no-aud"),
        pytest.param(lambda i: "not-a-jwt", "Invalid login token. Not a valid OpenId Connect identity token.", id="not-a-jwt"),
    ],
)
def test_get_id_refuses(oidc, make, expected):
    """Each bad token is NotAuthorizedException with AWS's message, and makes no identity."""
    with pytest.raises(ClientError) as refused:
        oidc.get_id(make(oidc.issuer))
    code, message = error(refused)
    assert code == "NotAuthorizedException"
    assert message.startswith(expected), message
    listed = oidc.kit.client("cognito-identity").list_identities(IdentityPoolId=oidc.pool_id, MaxResults=60)
    assert listed["Identities"] == []


def test_token_of_another_issuer_with_this_issuers_name_is_refused(oidc):
    """A second issuer that writes our issuer's URL as `iss` signs with keys our JWKS does not list."""
    with issuer_running() as impostor:
        forged = impostor.token(iss=oidc.issuer.url, kid=impostor.signing)
    with pytest.raises(ClientError) as refused:
        oidc.get_id(forged)
    assert error(refused) == ("NotAuthorizedException", BAD_SIGNATURE)


def test_same_kid_other_key_is_refused(oidc):
    """A token that names the published kid but is signed by another key does not verify."""
    with issuer_running() as impostor:
        impostor.keys[oidc.issuer.signing] = impostor.keys[impostor.signing]
        forged = impostor.token(iss=oidc.issuer.url, kid=oidc.issuer.signing)
    with pytest.raises(ClientError) as refused:
        oidc.get_id(forged)
    assert error(refused) == ("NotAuthorizedException", BAD_SIGNATURE)


def test_credentials_refused_for_a_token_of_another_sub(oidc):
    """GetCredentialsForIdentity for dana's identity with erin's token: the logins don't match."""
    dana = oidc.get_id(oidc.issuer.token(sub="dana"))
    oidc.get_id(oidc.issuer.token(sub="erin"))
    with pytest.raises(ClientError) as refused:
        oidc.kit.unsigned("cognito-identity").get_credentials_for_identity(
            IdentityId=dana, Logins={oidc.issuer.name: oidc.issuer.token(sub="erin")}
        )
    assert error(refused)[0] == "NotAuthorizedException"


def test_provider_not_in_the_pool_is_refused(sandbox, oidc):
    """A registered IAM provider the pool does not list is not one of its providers."""
    with issuer_running("/elsewhere") as other:
        arn = provider_create(sandbox, other.url)
        try:
            with pytest.raises(ClientError) as refused:
                sandbox.unsigned("cognito-identity").get_id(IdentityPoolId=oidc.pool_id, Logins={other.name: other.token()})
        finally:
            sandbox.client("iam").delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert error(refused)[0] == "NotAuthorizedException"
    assert other.hits["/elsewhere/.well-known/openid-configuration"] == 0  # nothing fetched for it


def test_provider_deleted_from_iam_is_refused(sandbox, issuer):
    """A pool still listing a provider that IAM no longer has refuses its tokens."""
    arn = provider_create(sandbox, issuer.url)
    pool_id = pool_create(sandbox, [arn])
    sandbox.client("iam").delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    with pytest.raises(ClientError) as refused:
        sandbox.unsigned("cognito-identity").get_id(IdentityPoolId=pool_id, Logins={issuer.name: issuer.token()})
    assert error(refused) == ("NotAuthorizedException", NOT_SUPPORTED)


# --- Rules role mappings on the provider's claims -------------------------------------


@pytest.mark.parametrize(
    ("claims", "role"),
    [
        pytest.param({"sub": "dana", "hd": "wintercorp.com"}, "team", id="wintercorp-team"),
        pytest.param({"sub": "frank", "hd": "example.org"}, "authenticated", id="example-org-authenticated"),
        pytest.param({"sub": "gina"}, "authenticated", id="no-hd-authenticated"),
        pytest.param({"sub": "mallory", "hd": "wintercorp.com.evil.example"}, "authenticated", id="look-alike-equals"),
    ],
)
def test_rules_by_hd(oidc, claims, role):
    """`hd` Equals wintercorp.com gives the team role; anything else the authenticated role (AmbiguousRoleResolution)."""
    oidc.map_rules(("hd", "Equals", "wintercorp.com", "team"))
    assert oidc.role_of(oidc.issuer.token(**claims)) == oidc.roles[role].rsplit("/", 1)[1]


def test_rules_deny_refuses_what_no_rule_matches(oidc):
    """AmbiguousRoleResolution Deny: example.org gets no credentials, wintercorp still its team role."""
    oidc.map_rules(("hd", "Equals", "wintercorp.com", "team"), ambiguous="Deny")
    with pytest.raises(ClientError) as refused:
        oidc.role_of(oidc.issuer.token(sub="frank", hd="example.org"))
    assert error(refused) == ("NotAuthorizedException", MAPPING_DENIED)
    assert oidc.role_of(oidc.issuer.token(sub="dana", hd="wintercorp.com")) == oidc.roles["team"].rsplit("/", 1)[1]


def test_rules_contains_lets_a_look_alike_domain_through(oidc):
    """The pitfall doctor warns of: `Contains` wintercorp.com matches wintercorp.com.evil.example."""
    oidc.map_rules(("hd", "Contains", "wintercorp.com", "team"))
    assert oidc.role_of(oidc.issuer.token(sub="mallory", hd="wintercorp.com.evil.example")) == oidc.roles["team"].rsplit("/", 1)[1]


def test_role_mapping_key_must_be_a_provider_of_the_pool(oidc):
    """RoleMappings keyed by a provider name the pool does not list: InvalidParameterException."""
    with pytest.raises(ClientError) as refused:
        oidc.kit.client("cognito-identity").set_identity_pool_roles(
            IdentityPoolId=oidc.pool_id,
            Roles={"authenticated": oidc.roles["authenticated"]},
            RoleMappings={"sso.example.com": {"Type": "Token", "AmbiguousRoleResolution": "Deny"}},
        )
    assert error(refused)[0] == "InvalidParameterException"


def test_team_role_trust_still_needs_this_pool(sandbox, oidc):
    """A rule naming a role whose trust names another pool: InvalidIdentityPoolConfigurationException."""
    other = sandbox.client("iam").create_role(
        RoleName=f"other-pool-{uuid.uuid4().hex[:8]}",
        AssumeRolePolicyDocument=trust_policy(f"us-east-1:{uuid.uuid4()}", "authenticated"),
    )["Role"]["Arn"]
    oidc.roles["other"] = other
    oidc.map_rules(("hd", "Equals", "wintercorp.com", "other"))
    with pytest.raises(ClientError) as refused:
        oidc.role_of(oidc.issuer.token(sub="dana", hd="wintercorp.com"))
    assert error(refused)[0] == "InvalidIdentityPoolConfigurationException"


# --- the pool's OpenIdConnectProviderARNs ---------------------------------------------


def test_pool_naming_a_provider_that_does_not_exist_is_refused(sandbox, oidc):
    """Create or update a pool with an OIDC provider ARN IAM does not have: InvalidParameterException."""
    missing = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/sso.example.com/nobody"
    with pytest.raises(ClientError) as created:
        pool_create(sandbox, [missing])
    assert error(created)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as updated:
        sandbox.client("cognito-identity").update_identity_pool(
            IdentityPoolId=oidc.pool_id,
            IdentityPoolName="renamed",
            AllowUnauthenticatedIdentities=False,
            OpenIdConnectProviderARNs=[oidc.provider_arn, missing],
        )
    assert error(updated)[0] == "InvalidParameterException"
    described = sandbox.client("cognito-identity").describe_identity_pool(IdentityPoolId=oidc.pool_id)
    assert described["OpenIdConnectProviderARNs"] == [oidc.provider_arn]  # nothing half-written


# --- IAM OpenID Connect providers -----------------------------------------------------


def test_provider_crud(sandbox):
    """Create, get (URL without its scheme, client IDs, thumbprints), list and delete an IAM OIDC provider."""
    iam = sandbox.client("iam")
    url = f"http://127.0.0.1:4566/crud-{uuid.uuid4().hex[:8]}"
    arn = iam.create_open_id_connect_provider(Url=url, ClientIDList=["a", "b"], ThumbprintList=["f" * 40])["OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{url.split('://', 1)[1]}"
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert (got["Url"], got["ClientIDList"], got["ThumbprintList"]) == (url.split("://", 1)[1], ["a", "b"], ["f" * 40])
    assert arn in [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    with pytest.raises(ClientError) as gone:
        iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert error(gone)[0] == "NoSuchEntity"


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://sso.example.com/oidc", id="http-not-loopback"),
        pytest.param("http://10.0.0.8/oidc", id="http-private-address"),
        pytest.param("ftp://127.0.0.1/oidc", id="not-http"),
        pytest.param("https://sso.example.com/oidc?tenant=1", id="query"),
        pytest.param("https://user:pw@sso.example.com/oidc", id="credentials"),
    ],
)
def test_provider_url_refused(sandbox, url):
    """http:// only on a loopback host (the sandbox cannot check a thumbprint), and never a query or credentials."""
    with pytest.raises(ClientError) as refused:
        sandbox.client("iam").create_open_id_connect_provider(Url=url, ClientIDList=[CLIENT_ID], ThumbprintList=["a" * 40])
    assert error(refused)[0] == "InvalidInput"


def test_https_provider_is_accepted(sandbox):
    """An https provider anywhere is what AWS takes."""
    iam = sandbox.client("iam")
    arn = iam.create_open_id_connect_provider(Url=f"https://sso-{uuid.uuid4().hex[:6]}.example.com", ClientIDList=[CLIENT_ID])[
        "OpenIDConnectProviderArn"
    ]
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)


def test_provider_calls_are_authorized_like_other_iam_calls(sandbox, oidc):
    """Identity-pool credentials (no IAM permission) are refused every provider call; unsigned calls too."""
    ci = sandbox.unsigned("cognito-identity")
    token = oidc.issuer.token(sub="frank")
    got = ci.get_credentials_for_identity(IdentityId=oidc.get_id(token), Logins={oidc.issuer.name: token})
    iam = sandbox.client("iam", as_boto3(got["Credentials"]))
    calls = [
        lambda: iam.list_open_id_connect_providers(),
        lambda: iam.get_open_id_connect_provider(OpenIDConnectProviderArn=oidc.provider_arn),
        lambda: iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=oidc.provider_arn),
        lambda: iam.create_open_id_connect_provider(Url="https://evil.example", ClientIDList=["x"]),
    ]
    for call in calls:
        with pytest.raises(ClientError) as refused:
            call()
        assert error(refused)[0] == "AccessDenied"
    with pytest.raises(ClientError) as unsigned:
        sandbox.unsigned("iam").list_open_id_connect_providers()
    assert error(unsigned)[0] == "MissingAuthenticationToken"
    assert sandbox.client("iam").get_open_id_connect_provider(OpenIDConnectProviderArn=oidc.provider_arn)  # still there


# --- the key fetch's limits -------------------------------------------------------------


def test_made_up_kids_cost_one_fetch(oidc):
    """Tokens naming kids the JWKS does not list: refused, and only the first refetches."""
    oidc.get_id(oidc.issuer.token())
    before = oidc.issuer.hits["/oidc/jwks"]
    for n in range(5):
        forged = oidc.issuer.token(headers={"kid": f"made-up-{n}"})
        with pytest.raises(ClientError) as refused:
            oidc.get_id(forged)
        assert error(refused) == ("NotAuthorizedException", BAD_SIGNATURE)
    assert oidc.issuer.hits["/oidc/jwks"] == before + 1


def _refused_for_keys(oidc: OidcPool) -> None:
    with pytest.raises(ClientError) as refused:
        oidc.get_id(oidc.issuer.token())
    assert error(refused) == ("NotAuthorizedException", BAD_SIGNATURE)


def test_jwks_redirect_is_not_followed(oidc):
    """A JWKS answer that redirects elsewhere: the redirect is not followed, the token refused."""
    with issuer_running("/target") as target:
        oidc.issuer.jwks_redirect_to = f"{target.url}/jwks"
        _refused_for_keys(oidc)
    assert target.hits["/target/jwks"] == 0


def test_jwks_too_large_is_refused(oidc):
    """A JWKS over 64 KB is not read."""
    oidc.issuer.jwks_padding = 70 * 1024
    _refused_for_keys(oidc)


def test_slow_jwks_is_abandoned(oidc):
    """A JWKS that answers only after the fetch's time limit (3 s): abandoned, so the token is refused
    (waited for, its keys would verify it)."""
    oidc.issuer.jwks_delay = 8.0
    _refused_for_keys(oidc)


@pytest.mark.parametrize(
    "jwks_uri",
    [
        pytest.param("http://10.255.255.1/jwks", id="http-off-loopback"),
        pytest.param("file:///etc/passwd", id="file"),
        pytest.param("gopher://127.0.0.1:25/", id="gopher"),
    ],
)
def test_jwks_uri_off_loopback_http_is_not_fetched(oidc, jwks_uri):
    """The discovery document may only point at https or at http on loopback."""
    oidc.issuer.jwks_uri = jwks_uri
    _refused_for_keys(oidc)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"<html>not json</html>", id="not-json"),
        pytest.param(b"[" * 30000 + b"]" * 30000, id="nested-too-deep"),  # within 64 KB
        pytest.param(b'{"keys": 5}', id="keys-not-a-list"),
        pytest.param(b'{"keys": [{"kty": "RSA", "kid": "x", "n": "AQAB", "e": "AQAB"}]}', id="key-too-small"),
        pytest.param(b'{"keys": [{"kty": "RSA", "kid": "x", "n": "!!", "e": []}]}', id="key-garbled"),
        pytest.param(b'["a list"]', id="not-an-object"),
    ],
)
def test_malformed_jwks_is_refused_not_a_500(oidc, body):
    """Whatever the JWKS holds, the token is refused with AWS's message and the sandbox keeps answering."""
    oidc.issuer.jwks_body = body
    _refused_for_keys(oidc)


def test_garbage_http_answer_is_refused(oidc):
    """A JWKS server that answers with no valid HTTP status line."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def answer_garbage() -> None:
        with contextlib.suppress(OSError):
            for _ in range(5):  # every attempt a client retry makes gets the same
                connection, _ = listener.accept()
                with connection:
                    connection.recv(4096)
                    connection.sendall(b"garbage\r\n\r\n")

    thread = threading.Thread(target=answer_garbage, daemon=True)
    thread.start()
    try:
        oidc.issuer.jwks_uri = f"http://127.0.0.1:{port}/jwks"
        _refused_for_keys(oidc)
    finally:
        listener.close()
        thread.join(timeout=5)


def test_discovery_naming_another_issuer_is_refused(oidc):
    """A discovery document whose `issuer` is not the provider's URL is not trusted for keys."""
    oidc.issuer.discovery_issuer = "http://127.0.0.1:1/else"
    _refused_for_keys(oidc)
    assert oidc.issuer.hits["/oidc/jwks"] == 0


# --- kept across a restart ------------------------------------------------------------


@pytest.mark.parametrize("how", ["restart", "export-import"])
def test_provider_and_identity_survive(tmp_path, issuer, how):
    """The IAM provider (its http scheme too) and the identity linked to a sub, after a restart on the same
    data directory (the pickle) and after export and import (the JSON document)."""
    import signal

    from tests.sandbox.test_persistence import sandbox_on
    from tests.sandbox.test_state_export import sandbox_command

    original, file, fresh = tmp_path / "original", tmp_path / "state.json", tmp_path / "fresh"
    with sandbox_on(original) as first:
        kit = first.wait_ready()
        arn = provider_create(kit, issuer.url)
        pool_id = pool_create(kit, [arn])
        role = kit.client("iam").create_role(RoleName="oidc-kept", AssumeRolePolicyDocument=trust_policy(pool_id, "authenticated"))
        kit.client("cognito-identity").set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": role["Role"]["Arn"]})
        pool = OidcPool(kit, issuer, arn, pool_id, {"authenticated": role["Role"]["Arn"]})
        identity_id = pool.get_id(issuer.token(sub="dana"))
        before = kit.client("iam").get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        assert first.stop(signal.SIGTERM) == 0
    served_from = original
    if how == "export-import":
        for args in (("export", original, file), ("import", file, fresh)):
            done = sandbox_command(*args)
            assert done.returncode == 0, done.stderr
        assert json.loads(file.read_text())["iam"]["oidc_providers"][0]["url"] == issuer.url
        served_from = fresh
    with sandbox_on(served_from) as second:
        pool.kit = second.wait_ready()
        after = pool.kit.client("iam").get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        for field in ("Url", "ClientIDList", "ThumbprintList"):
            assert after[field] == before[field]
        assert pool.get_id(issuer.token(sub="dana")) == identity_id
        assert pool.role_of(issuer.token(sub="dana")) == "oidc-kept"


def test_provider_calls_are_authorized_on_the_providers_arn(sandbox, oidc):
    """An IAM user allowed GetOpenIDConnectProvider on one provider's ARN gets that one, and nothing else."""
    iam = sandbox.client("iam")
    name = f"oidc-reader-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:GetOpenIDConnectProvider", "Resource": oidc.provider_arn},
    ]}
    iam.put_user_policy(UserName=name, PolicyName="read-one", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    reader = sandbox.client("iam", {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]})
    assert reader.get_open_id_connect_provider(OpenIDConnectProviderArn=oidc.provider_arn)["ClientIDList"] == [CLIENT_ID]
    other = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/127.0.0.1:1/other"
    for call in (
        lambda: reader.get_open_id_connect_provider(OpenIDConnectProviderArn=other),
        lambda: reader.delete_open_id_connect_provider(OpenIDConnectProviderArn=oidc.provider_arn),
        lambda: reader.create_open_id_connect_provider(Url=f"http://127.0.0.1:1/r-{name}", ClientIDList=["x"]),
    ):
        with pytest.raises(ClientError) as refused:
            call()
        assert error(refused)[0] == "AccessDenied"


def test_client_ids_added_and_removed_in_place(oidc):
    """Add/RemoveClientID change the ClientIDList (idempotently), and GetId follows at once."""
    iam = oidc.kit.client("iam")
    with pytest.raises(ClientError) as refused:
        oidc.get_id(oidc.issuer.token(aud="mobile-app"))
    assert error(refused) == ("NotAuthorizedException", NOT_SUPPORTED)
    for _ in range(2):
        iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=oidc.provider_arn, ClientID="mobile-app")
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=oidc.provider_arn)["ClientIDList"] == [CLIENT_ID, "mobile-app"]
    assert oidc.get_id(oidc.issuer.token(aud="mobile-app"))
    for _ in range(2):
        iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=oidc.provider_arn, ClientID=CLIENT_ID)
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=oidc.provider_arn)["ClientIDList"] == ["mobile-app"]
    with pytest.raises(ClientError) as removed:
        oidc.get_id(oidc.issuer.token(aud=CLIENT_ID))
    assert error(removed) == ("NotAuthorizedException", NOT_SUPPORTED)
    with pytest.raises(ClientError) as missing:
        iam.add_client_id_to_open_id_connect_provider(
            OpenIDConnectProviderArn=f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/127.0.0.1:1/none", ClientID="x"
        )
    assert error(missing)[0] == "NoSuchEntity"


def test_user_pool_and_oidc_provider_in_one_pool(sandbox, issuer):
    """A pool with a user pool and an OIDC provider: each login keeps its own identity and its own role mapping."""
    dep = sandbox.deployment(users=("alice",))
    arn = provider_create(sandbox, issuer.url)
    ci = sandbox.client("cognito-identity")
    description = ci.describe_identity_pool(IdentityPoolId=dep.identity_pool_id)
    description.pop("ResponseMetadata")
    ci.update_identity_pool(**{**description, "OpenIdConnectProviderARNs": [arn]})
    team = dep.create_role("team", trust_policy(dep.identity_pool_id, "authenticated"))
    ci.set_identity_pool_roles(
        IdentityPoolId=dep.identity_pool_id,
        Roles=dict(dep.roles),
        RoleMappings={
            f"{dep.provider}:{dep.client_id}": {"Type": "Token", "AmbiguousRoleResolution": "AuthenticatedRole"},
            issuer.name: {
                "Type": "Rules",
                "AmbiguousRoleResolution": "Deny",
                "RulesConfiguration": {"Rules": [{"Claim": "hd", "MatchType": "Equals", "Value": "wintercorp.com", "RoleARN": team}]},
            },
        },
    )
    pool = OidcPool(sandbox, issuer, arn, dep.identity_pool_id, {"team": team})
    dana = issuer.token(sub="dana", hd="wintercorp.com")
    assert pool.role_of(dana) == team.rsplit("/", 1)[1]
    alice_id, alice = dep.user_credentials("alice")
    assert sandbox.client("sts", alice).get_caller_identity()["Arn"].split("/")[1] == dep.roles["authenticated"].rsplit("/", 1)[1]
    assert alice_id != pool.get_id(dana)
    sandbox.client("iam").delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
