"""The policy files a reviewer reads: well-formed, with placeholders that IAM
cannot mistake for policy variables, and none of the classic widenings."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra.provision import POLICIES_DIR, policy_render

FILES = sorted(path.stem for path in POLICIES_DIR.glob("*.json"))
PERMISSIONS = [name for name in FILES if not name.startswith("trust-")]
SUB = "${cognito-identity.amazonaws.com:sub}"


def _statements(name: str) -> list[dict[str, Any]]:
    return json.loads((POLICIES_DIR / f"{name}.json").read_text())["Statement"]


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement.get("Action", [])
    return [action] if isinstance(action, str) else action


def test_every_expected_file_is_there():
    """The eight policies provision attaches or writes out exist, and no others."""
    assert FILES == [
        "albums",
        "authenticated",
        "moderator",
        "server",
        "team",
        "trust-authenticated",
        "trust-unauthenticated",
        "unauthenticated",
    ]


@pytest.mark.parametrize("name", FILES)
def test_only_the_identity_id_is_a_policy_variable(name):
    """${...} appears only as the identity ID; our placeholders are __NAME__ and all known."""
    text = (POLICIES_DIR / f"{name}.json").read_text()
    assert set(re.findall(r"\$\{[^}]*\}", text)) <= {SUB}
    known = {"__BUCKET__", "__IDENTITY_POOL_ID__", "__NAME__", "__ACCOUNT__", "__REGION__", "__TEAM__", "__TABLE_ARN__"}
    assert set(re.findall(r"__[A-Z_]+__", text)) <= known


@pytest.mark.parametrize("name", PERMISSIONS)
def test_no_unconditioned_list_bucket(name):
    """Every statement that can allow s3:ListBucket is conditioned on s3:prefix."""
    for statement in _statements(name):
        if any(re.fullmatch(a.replace("*", ".*"), "s3:ListBucket", re.IGNORECASE) for a in _actions(statement)):
            conditions = statement.get("Condition", {})
            keys = {key for block in conditions.values() for key in block}
            assert "s3:prefix" in keys, statement


@pytest.mark.parametrize("name", PERMISSIONS)
def test_no_wildcard_actions_or_resources(name):
    """Actions are named one by one, and every resource is in the bucket, but for the server's read of
    this deployment's own roles (the inspector shows their policies)."""
    for statement in _statements(name):
        assert statement["Effect"] == "Allow"
        assert all("*" not in action for action in _actions(statement)), statement
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if name == "server" and resources == ["arn:aws:iam::__ACCOUNT__:role/__NAME__-*"]:
            continue
        if name == "server" and resources == [POOL_ARN]:
            continue
        if name == "albums":
            assert resources == ["__TABLE_ARN__"], statement
            continue
        assert all(r == "arn:aws:s3:::__BUCKET__" or r.startswith("arn:aws:s3:::__BUCKET__/") for r in resources)


@pytest.mark.parametrize(
    "name, amr",
    [("trust-authenticated", "authenticated"), ("trust-unauthenticated", "unauthenticated")],
)
def test_trust_policy_names_the_pool_and_amr(name, amr):
    """Trust is web identity from Cognito, for this pool's aud and the right amr only."""
    [statement] = _statements(name)
    assert statement["Principal"] == {"Federated": "cognito-identity.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {"cognito-identity.amazonaws.com:aud": "__IDENTITY_POOL_ID__"},
        "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": amr},
    }


POOL_ARN = "arn:aws:cognito-identity:__REGION__:__ACCOUNT__:identitypool/__IDENTITY_POOL_ID__"


def _cognito_statements(name: str) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in _statements(name) if any(a.startswith("cognito-identity:") for a in _actions(s))}


def test_server_may_vouch_for_developer_identities_of_this_pool_only():
    """Sign-in links: GetOpenIdTokenForDeveloperIdentity and LookupDeveloperIdentity, on this identity pool's ARN alone."""
    statement = _cognito_statements("server")["SignInLinksGetDeveloperIdentityTokensForThisPoolOnly"]
    assert sorted(_actions(statement)) == [
        "cognito-identity:GetOpenIdTokenForDeveloperIdentity",
        "cognito-identity:LookupDeveloperIdentity",
    ]
    assert statement["Resource"] == POOL_ARN


def test_server_reads_the_role_mapping_of_this_pool_only():
    """The inspector names the rule that chose an SSO user's role: GetIdentityPoolRoles, read-only, on this
    identity pool's ARN alone; and no other cognito-identity action is granted anywhere."""
    statements = _cognito_statements("server")
    [(sid, statement)] = [(sid, s) for sid, s in statements.items() if "cognito-identity:GetIdentityPoolRoles" in _actions(s)]
    assert sid.startswith("Inspector")
    assert _actions(statement) == ["cognito-identity:GetIdentityPoolRoles"]
    assert statement["Resource"] == POOL_ARN
    assert len(statements) == 2
    rendered = policy_render(
        name="server", bucket="b-photos", deployment="demo", account="123456789012", identity_pool_id="us-east-1:p", region="us-east-1"
    )
    [statement] = [s for s in rendered["Statement"] if s["Sid"] == sid]
    assert statement["Resource"] == "arn:aws:cognito-identity:us-east-1:123456789012:identitypool/us-east-1:p"


def test_only_the_team_policy_names_teams():
    """`teams/*` is the team role's alone (and the server's, which verifies, deletes and reconciles team photos
    but writes none); its policy names only its own team's prefix, and no delete."""
    for name in PERMISSIONS:
        assert ("teams/" in (POLICIES_DIR / f"{name}.json").read_text()) is (name in ("team", "server")), name
    rendered = policy_render(name="team", bucket="b-photos", team="wintercorp")
    objects = [st for st in rendered["Statement"] if st["Resource"] != "arn:aws:s3:::b-photos"]
    assert {st["Resource"] for st in objects} == {
        "arn:aws:s3:::b-photos/teams/wintercorp/*",
        f"arn:aws:s3:::b-photos/teams/wintercorp/{SUB}/*",
    }
    assert not [a for st in rendered["Statement"] for a in _actions(st) if "Delete" in a]


TEAM_WRITE = {"s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"}


def test_team_members_read_the_whole_prefix_but_write_only_their_own_folder():
    """Members read each other's photos anywhere under teams/<team>/, but every write action sits on
    teams/<team>/<their identity ID>/ only: otherwise a member could overwrite another's photo (the server's
    pinned version stays, then the lifecycle rule expires it and the photo disappears)."""
    rendered = policy_render(name="team", bucket="b-photos", team="wintercorp")
    by_resource: dict[str, set[str]] = {}
    for statement in rendered["Statement"]:
        resources = [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
        for resource in resources:
            by_resource.setdefault(resource, set()).update(_actions(statement))
    assert by_resource == {
        "arn:aws:s3:::b-photos/teams/wintercorp/*": {READ, READ_VERSION},
        f"arn:aws:s3:::b-photos/teams/wintercorp/{SUB}/*": TEAM_WRITE,
        "arn:aws:s3:::b-photos": {"s3:ListBucket"},
    }


def test_server_policy_is_read_delete_and_list_only():
    """The server may verify, delete and reconcile uploads, each version of them too, see abandoned
    multipart uploads and read its roles' policies for the inspector, and nothing else (no PutObject, no bucket
    configuration: provision runs with admin credentials)."""
    actions = {action for statement in _statements("server") for action in _actions(statement)}
    assert actions == {
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "s3:ListBucket",
        "s3:ListBucketVersions",
        "s3:ListBucketMultipartUploads",
        "iam:ListRolePolicies",
        "iam:GetRolePolicy",
        "cognito-identity:GetOpenIdTokenForDeveloperIdentity",
        "cognito-identity:LookupDeveloperIdentity",
        "cognito-identity:GetIdentityPoolRoles",
    }


def test_server_reads_the_policies_of_this_deployments_roles_only():
    """The inspector shows a role's policy as IAM has it: read-only, and only roles named for this deployment."""
    rendered = policy_render(
        name="server", bucket="b-photos", deployment="demo", account="123456789012", identity_pool_id="us-east-1:p", region="us-east-1"
    )
    [statement] = [s for s in rendered["Statement"] if any(a.startswith("iam:") for a in _actions(s))]
    assert statement["Resource"] == "arn:aws:iam::123456789012:role/demo-*"
    assert all(action.startswith(("iam:Get", "iam:List")) for action in statement["Action"])


TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/demo-albums"
ME, OTHER = "us-east-1:00000000-0000-4000-8000-0000000000a1", "us-east-1:00000000-0000-4000-8000-0000000000b2"


def test_albums_policy_is_the_item_actions_scoped_by_leading_keys():
    """Six item actions on the table alone, with ForAllValues:StringEquals LeadingKeys = the identity ID; no Scan."""
    [statement] = policy_render(name="albums", table_arn=TABLE)["Statement"]
    assert sorted(_actions(statement)) == [
        "dynamodb:BatchGetItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
    ]
    assert statement["Resource"] == TABLE
    assert statement["Condition"] == {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [SUB]}}


# (action, the partition keys the request touches, allowed?) for the caller ME: the request
# context IAM builds from the identity-pool session, evaluated by the evaluator the sandbox enforces with.
ALBUM_REQUESTS = [
    ("dynamodb:GetItem", [ME], True),
    ("dynamodb:PutItem", [ME], True),
    ("dynamodb:Query", [ME], True),
    ("dynamodb:BatchGetItem", [ME, ME], True),
    ("dynamodb:GetItem", [OTHER], False),
    ("dynamodb:UpdateItem", [OTHER], False),
    ("dynamodb:DeleteItem", [OTHER], False),
    ("dynamodb:BatchGetItem", [ME, OTHER], False),
    ("dynamodb:Scan", None, False),
    ("dynamodb:BatchWriteItem", [ME], False),
]


@pytest.mark.parametrize("action, keys, allowed", ALBUM_REQUESTS)
def test_albums_policy_decides_by_the_partition_key(action, keys, allowed):
    """Own partition only: another identity's key, alone or in a batch, is denied; so is a Scan and any action not granted."""
    from iampolicy import Mode, evaluate

    context: dict[str, Any] = {"cognito-identity.amazonaws.com:sub": ME}
    if keys is not None:
        context["dynamodb:leadingkeys"] = keys
    document = json.dumps(policy_render(name="albums", table_arn=TABLE))
    assert evaluate([document], action=action, resource=TABLE, context=context, mode=Mode.ENFORCE).allowed is allowed


READ, READ_VERSION = "s3:GetObject", "s3:GetObjectVersion"
ROLES = ("authenticated", "moderator", "team", "unauthenticated")


@pytest.mark.parametrize("name", ROLES)
def test_no_role_may_read_versions_of_what_it_may_not_read(name):
    """GetObjectVersion sits in exactly the statements that allow GetObject, on the same resources."""
    for statement in _statements(name):
        actions = set(_actions(statement))
        assert (READ in actions) == (READ_VERSION in actions), statement


@pytest.mark.parametrize("name", ROLES)
def test_only_the_server_lists_or_deletes_versions(name):
    """Deleting a version or listing versions is the server's: an owner's overwrite cannot be undone by a role."""
    actions = {action for statement in _statements(name) for action in _actions(statement)}
    assert not {a for a in actions if "Version" in a and a != READ_VERSION}, name
    assert not {a for a in actions if a in ("s3:*", "*")}, name


def _buckets(policy: dict[str, Any]) -> set[str]:
    """The bucket names in a policy's resources."""
    resources = [r for st in policy["Statement"] for r in ([st["Resource"]] if isinstance(st["Resource"], str) else st["Resource"])]
    return {r.removeprefix("arn:aws:s3:::").split("/", 1)[0] for r in resources}


def _aud(policy: dict[str, Any]) -> str:
    [statement] = policy["Statement"]
    return statement["Condition"]["StringEquals"]["cognito-identity.amazonaws.com:aud"]


# Where each file's placeholder lands, read back from the rendered policy.
RENDERED = [
    ("albums", lambda policy: policy["Statement"][0]["Resource"], "arn:aws:dynamodb:us-east-1:123456789012:table/demo-albums"),
    ("authenticated", _buckets, {"b-photos"}),
    ("moderator", _buckets, {"b-photos"}),
    ("server", _buckets, {"b-photos", "arn:aws:iam::123456789012:role", "arn:aws:cognito-identity:us-east-1:123456789012:identitypool"}),
    ("team", _buckets, {"b-photos"}),
    ("unauthenticated", _buckets, {"b-photos"}),
    ("trust-authenticated", _aud, "us-east-1:pool"),
    ("trust-unauthenticated", _aud, "us-east-1:pool"),
]


def test_every_file_has_a_rendering_case():
    """A new policy file needs a line in RENDERED."""
    assert sorted(name for name, _, _ in RENDERED) == FILES


@pytest.mark.parametrize("name, read, expected", RENDERED, ids=[name for name, _, _ in RENDERED])
def test_rendering_fills_every_placeholder(name, read, expected):
    """Each placeholder becomes exactly its value where it stood: the bucket in resources, the pool in aud."""
    rendered = policy_render(
        name=name, bucket="b-photos", identity_pool_id="us-east-1:pool", deployment="demo", account="123456789012",
        region="us-east-1", team="wintercorp", table_arn="arn:aws:dynamodb:us-east-1:123456789012:table/demo-albums",
    )
    assert read(rendered) == expected
    assert "__" not in json.dumps(rendered)


def test_rendering_refuses_a_missing_value():
    """A placeholder without a value is an error, not an empty string in a policy."""
    with pytest.raises(ValueError, match="__IDENTITY_POOL_ID__"):
        policy_render(name="trust-authenticated", bucket="b-photos")
