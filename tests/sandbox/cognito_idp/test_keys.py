"""User-pool tokens as the identity pool's Token role mapping reads them: ID
tokens carry `cognito:groups`, and for groups with a `RoleArn`, `cognito:roles`
(all of them) and `cognito:preferred_role` (lowest `Precedence`), which moto
leaves out. Precedence rules follow the CreateGroup API reference:
https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_CreateGroup.html
"""

from __future__ import annotations

from typing import Any

import jwt
import pytest
import requests

from tests.sandbox_kit import REGION, Deployment, trust_policy

ROLE_CLAIMS = ("cognito:roles", "cognito:preferred_role")


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def create_groups(dep: Deployment, groups: list[tuple[str, str | None, int | None]]) -> dict[str, str]:
    """Create `groups` (name, role key, precedence), put alice in each; returns role key -> ARN."""
    idp = dep.kit.client("cognito-idp")
    roles: dict[str, str] = {}
    for name, role, precedence in groups:
        options: dict[str, Any] = {}
        if role is not None:
            if role not in roles:
                roles[role] = dep.create_role(role, trust_policy(dep.identity_pool_id, "authenticated"))
            options["RoleArn"] = roles[role]
        if precedence is not None:
            options["Precedence"] = precedence
        idp.create_group(GroupName=name, UserPoolId=dep.user_pool_id, **options)
        idp.admin_add_user_to_group(UserPoolId=dep.user_pool_id, Username="alice@example.com", GroupName=name)
    return roles


def password_flow(dep: Deployment) -> dict[str, str]:
    return dep.sign_in("alice")


def refresh_flow(dep: Deployment) -> dict[str, str]:
    refresh = dep.sign_in("alice")["RefreshToken"]
    return dep.kit.unsigned("cognito-idp").initiate_auth(
        ClientId=dep.client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": refresh}
    )["AuthenticationResult"]


FLOWS = [pytest.param(password_flow, id="USER_PASSWORD_AUTH"), pytest.param(refresh_flow, id="REFRESH_TOKEN_AUTH")]


@pytest.mark.parametrize("flow", FLOWS)
@pytest.mark.parametrize(
    "groups, roles, preferred",
    [
        pytest.param([("readers", None, None)], set(), None, id="group-without-role"),
        pytest.param([("editors", "editor", 1)], {"editor"}, "editor", id="one-group-with-role"),
        pytest.param([("editors", "editor", 1), ("viewers", "viewer", 5)], {"editor", "viewer"}, "editor", id="lowest-precedence-wins"),
        pytest.param([("editors", "editor", 9), ("viewers", "viewer", 0)], {"editor", "viewer"}, "viewer", id="zero-is-highest"),
        pytest.param([("editors", "editor", None), ("viewers", "viewer", 10)], {"editor", "viewer"}, "viewer", id="null-precedence-loses"),
        pytest.param([("editors", "editor", 3), ("viewers", "viewer", 3)], {"editor", "viewer"}, None, id="tie-different-roles-no-preferred"),
        pytest.param([("editors", "editor", 3), ("writers", "editor", 3)], {"editor"}, "editor", id="tie-same-role"),
        pytest.param([("readers", None, 0), ("editors", "editor", 5)], {"editor"}, "editor", id="roleless-group-not-preferred"),
    ],
)
def test_id_token_group_and_role_claims(sandbox, flow, groups, roles, preferred):
    """The ID token lists every group, every group role, and the lowest-precedence role as preferred."""
    dep = sandbox.deployment()
    arns = create_groups(dep, groups)
    claims = claims_of(flow(dep)["IdToken"])
    assert sorted(claims["cognito:groups"]) == sorted(name for name, _, _ in groups)
    if roles:
        assert sorted(set(claims["cognito:roles"])) == sorted(arns[r] for r in roles)
    else:
        assert "cognito:roles" not in claims
    if preferred:
        assert claims["cognito:preferred_role"] == arns[preferred]
    else:
        assert "cognito:preferred_role" not in claims


@pytest.mark.parametrize("flow", FLOWS)
def test_id_token_without_groups_has_no_group_claims(sandbox, flow):
    """A user in no group gets no cognito:groups, cognito:roles or cognito:preferred_role."""
    dep = sandbox.deployment()
    claims = claims_of(flow(dep)["IdToken"])
    assert not {"cognito:groups", *ROLE_CLAIMS} & set(claims)


def test_role_claims_follow_group_changes(sandbox):
    """A token issued after leaving a group no longer carries that group's role."""
    dep = sandbox.deployment()
    arns = create_groups(dep, [("editors", "editor", 1), ("viewers", "viewer", 5)])
    assert claims_of(dep.id_token("alice"))["cognito:preferred_role"] == arns["editor"]
    dep.kit.client("cognito-idp").admin_remove_user_from_group(
        UserPoolId=dep.user_pool_id, Username="alice@example.com", GroupName="editors"
    )
    claims = claims_of(dep.id_token("alice"))
    assert claims["cognito:groups"] == ["viewers"]
    assert claims["cognito:roles"] == [arns["viewer"]]
    assert claims["cognito:preferred_role"] == arns["viewer"]


def test_access_token_carries_groups_but_no_roles(sandbox):
    """As on AWS, the access token has cognito:groups and no role claims."""
    dep = sandbox.deployment()
    create_groups(dep, [("editors", "editor", 1)])
    claims = claims_of(dep.sign_in("alice")["AccessToken"])
    assert claims["token_use"] == "access"
    assert claims["cognito:groups"] == ["editors"]
    assert not set(ROLE_CLAIMS) & set(claims)


def test_id_token_with_role_claims_verifies_against_pool_jwks(sandbox):
    """The enriched ID token is still signed by the pool: it verifies with the published JWKS."""
    dep = sandbox.deployment()
    arns = create_groups(dep, [("editors", "editor", 1)])
    token = dep.id_token("alice")
    jwks = requests.get(f"{sandbox.endpoint}/{dep.user_pool_id}/.well-known/jwks.json", timeout=10).json()
    keys = {key.key_id: key for key in jwt.PyJWKSet.from_dict(jwks).keys}
    key = keys[jwt.get_unverified_header(token)["kid"]]
    claims = jwt.decode(
        token,
        key.key,
        algorithms=["RS256"],
        audience=dep.client_id,
        issuer=f"https://cognito-idp.{REGION}.amazonaws.com/{dep.user_pool_id}",
    )
    assert claims["token_use"] == "id"
    assert claims["cognito:preferred_role"] == arns["editor"]


# --- each pool's own signing key, never moto's shared one ---------------------------

MOTO_KID = "dummy"  # the kid of the key pair moto ships and signs every pool's tokens with


def jwks_of(sandbox, pool_id: str) -> requests.Response:
    return requests.get(f"{sandbox.endpoint}/{pool_id}/.well-known/jwks.json", timeout=10)


def test_two_pools_sign_with_different_keys(sandbox):
    """Tokens of two pools carry different kids, neither moto's, and each pool's JWKS differs."""
    first, second = sandbox.deployment(users=("alice",)), sandbox.deployment(users=("alice",))
    kids = [jwt.get_unverified_header(dep.id_token("alice"))["kid"] for dep in (first, second)]
    assert kids[0] != kids[1] and MOTO_KID not in kids
    assert jwks_of(sandbox, first.user_pool_id).json() != jwks_of(sandbox, second.user_pool_id).json()


def test_jwks_holds_exactly_the_pools_own_key(sandbox):
    """A pool's JWKS is one RS256 signing key, the one its tokens name, with AWS's fields and no private part."""
    dep = sandbox.deployment(users=("alice",))
    response = jwks_of(sandbox, dep.user_pool_id)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    (key,) = response.json()["keys"]
    assert set(key) == {"alg", "e", "kid", "kty", "n", "use"}
    assert (key["alg"], key["kty"], key["use"]) == ("RS256", "RSA", "sig")
    for token_use in ("IdToken", "AccessToken"):
        assert jwt.get_unverified_header(dep.sign_in("alice")[token_use]) == {"alg": "RS256", "kid": key["kid"]}


def test_a_pools_token_does_not_verify_with_another_pools_key(sandbox):
    """Another pool's published key does not verify this pool's token."""
    mine, other = sandbox.deployment(users=("alice",)), sandbox.deployment(users=())
    (key,) = jwt.PyJWKSet.from_dict(jwks_of(sandbox, other.user_pool_id).json()).keys
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(mine.id_token("alice"), key.key, algorithms=["RS256"], options={"verify_aud": False})


def test_openid_configuration_points_at_the_pools_jwks(sandbox):
    """The pool's openid-configuration names its issuer and a jwks_uri serving its own key."""
    dep = sandbox.deployment(users=())
    config = requests.get(f"{sandbox.endpoint}/{dep.user_pool_id}/.well-known/openid-configuration", timeout=10).json()
    assert config["issuer"] == f"https://cognito-idp.{REGION}.amazonaws.com/{dep.user_pool_id}"
    assert requests.get(config["jwks_uri"], timeout=10).json() == jwks_of(sandbox, dep.user_pool_id).json()


@pytest.mark.parametrize("document", ["jwks.json", "openid-configuration"])
def test_unknown_pool_has_no_keys(sandbox, document):
    """The well-known documents of a pool that does not exist are a 404, not moto's shared key."""
    response = requests.get(f"{sandbox.endpoint}/{REGION}_NoSuchPool/.well-known/{document}", timeout=10)
    assert response.status_code == 404
    assert response.json() == {"message": f"User pool {REGION}_NoSuchPool does not exist."}
