"""`manage.py doctor` against the real sandbox: a freshly provisioned
deployment is clean, and each rule fires on a deployment broken on purpose
through the same admin APIs an operator (or an attacker with console access)
would use."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from infra import doctor
from infra.management.commands.doctor import CANNOT_READ
from core.deployment import Deployment
from infra.provision import oidc_provider_name

COGNITO = "cognito-identity.amazonaws.com"
EXPECTED_ORIGIN = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def report(self) -> dict[str, Any]:
        return json.loads(self.out)

    def rules(self) -> set[str]:
        return {f["rule"] for f in self.report["findings"]}


def run_doctor(*args: str) -> Result:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("doctor", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return Result(code, out.getvalue(), err.getvalue())


# --- breaking a deployment, as an operator would -----------------------------------------


@dataclass
class Breaker:
    """Admin-plane access to one provisioned deployment, for breaking it."""

    kit: Any
    deployment: Deployment
    settings: Any
    monkeypatch: pytest.MonkeyPatch

    def client(self, service: str):
        return self.kit.client(service)

    @property
    def bucket_arn(self) -> str:
        return f"arn:aws:s3:::{self.deployment.bucket}"

    @property
    def provider(self) -> str:
        return f"cognito-idp.us-east-1.amazonaws.com/{self.deployment.user_pool_id}"

    def role_name(self, kind: str) -> str:
        return getattr(self.deployment, f"{kind}_role_arn").rsplit("/", 1)[-1]

    def put_policy(self, kind: str, *statements: dict[str, Any]) -> None:
        """Add an inline policy with `statements` to the role of `kind`."""
        self.client("iam").put_role_policy(
            RoleName=self.role_name(kind),
            PolicyName="doctor-test",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}),
        )

    def attach_policy(self, kind: str, *statements: dict[str, Any]) -> None:
        """Attach a customer managed policy with `statements` to the role of `kind`."""
        iam = self.client("iam")
        arn = iam.create_policy(
            PolicyName=f"doctor-test-{self.role_name(kind)}",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}),
        )["Policy"]["Arn"]
        iam.attach_role_policy(RoleName=self.role_name(kind), PolicyArn=arn)

    def set_trust(self, kind: str, *, action: str = "sts:AssumeRoleWithWebIdentity", aud: bool = True, amr: str | None = "authenticated") -> None:
        conditions: dict[str, Any] = {}
        if aud:
            conditions["StringEquals"] = {f"{COGNITO}:aud": self.deployment.identity_pool_id}
        if amr:
            conditions["ForAnyValue:StringLike"] = {f"{COGNITO}:amr": amr}
        statement = {"Effect": "Allow", "Principal": {"Federated": COGNITO}, "Action": action}
        if conditions:
            statement["Condition"] = conditions
        self.client("iam").update_assume_role_policy(
            RoleName=self.role_name(kind),
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
        )

    def update_identity_pool(self, change: Callable[[dict[str, Any]], None]) -> None:
        identity = self.client("cognito-identity")
        config = identity.describe_identity_pool(IdentityPoolId=self.deployment.identity_pool_id)
        config.pop("ResponseMetadata", None)
        change(config)
        identity.update_identity_pool(**config)

    def map_by_rules(self, claim: str, value: str = "yes") -> None:
        """Replace Token mapping with one rule giving the moderator role on `claim`."""
        identity = self.client("cognito-identity")
        roles = identity.get_identity_pool_roles(IdentityPoolId=self.deployment.identity_pool_id)["Roles"]
        identity.set_identity_pool_roles(
            IdentityPoolId=self.deployment.identity_pool_id,
            Roles=roles,
            RoleMappings={
                f"{self.provider}:{self.deployment.app_client_id}": {
                    "Type": "Rules",
                    "AmbiguousRoleResolution": "AuthenticatedRole",
                    "RulesConfiguration": {
                        "Rules": [
                            {"Claim": claim, "MatchType": "Equals", "Value": value, "RoleARN": self.deployment.moderator_role_arn}
                        ]
                    },
                }
            },
        )

    def make_custom_attribute_writable(self, name: str) -> None:
        idp = self.client("cognito-idp")
        pool = self.deployment.user_pool_id
        idp.add_custom_attributes(
            UserPoolId=pool, CustomAttributes=[{"Name": name, "AttributeDataType": "String", "Mutable": True}]
        )
        idp.update_user_pool_client(
            UserPoolId=pool, ClientId=self.deployment.app_client_id, WriteAttributes=["email", f"custom:{name}"]
        )

    def public_access_block(self, **off: bool) -> None:
        flags = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
        self.client("s3").put_public_access_block(
            Bucket=self.deployment.bucket, PublicAccessBlockConfiguration={**flags, **off}
        )

    def cors(self, origins: list[str]) -> None:
        self.client("s3").put_bucket_cors(
            Bucket=self.deployment.bucket,
            CORSConfiguration={"CORSRules": [{"AllowedOrigins": origins, "AllowedMethods": ["GET", "PUT"]}]},
        )

    def demo_user(self, email: str = "alice@example.com") -> None:
        self.client("cognito-idp").admin_create_user(
            UserPoolId=self.deployment.user_pool_id,
            Username=email,
            UserAttributes=[{"Name": "email", "Value": email}],
            MessageAction="SUPPRESS",
        )

    def on_aws(self) -> None:
        """Audit as PHOTOSHARE_AWS=aws would, still against the sandbox:
        boto3's usual chain then supplies the sandbox's admin keys."""
        self.settings.PHOTOSHARE_AWS = "aws"
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            self.monkeypatch.delenv(name, raising=False)
        self.monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
        self.monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")


def _object(b: Breaker, key: str) -> str:
    return f"{b.bucket_arn}/{key}"


def _table(b: Breaker) -> str:
    return f"arn:aws:dynamodb:us-east-1:{b.deployment.authenticated_role_arn.split(':')[4]}:table/{b.deployment.albums_table}"


def _albums(b: Breaker, actions: list[str], condition: dict[str, Any] | None = None, *, kind: str = "authenticated") -> None:
    """An extra statement on the albums table for the role of `kind`."""
    statement: dict[str, Any] = {"Effect": "Allow", "Action": actions, "Resource": _table(b)}
    if condition is not None:
        statement["Condition"] = condition
    b.put_policy(kind, statement)


OWN_PARTITION = "${cognito-identity.amazonaws.com:sub}"


def _other_role(b: Breaker, *, trust_aud: bool) -> str:
    """A role outside the three provisioned ones, handed out by a mapping rule."""
    iam = b.client("iam")
    condition = {"ForAnyValue:StringLike": {f"{COGNITO}:amr": "authenticated"}}
    if trust_aud:
        condition["StringEquals"] = {f"{COGNITO}:aud": b.deployment.identity_pool_id}
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Federated": COGNITO}, "Action": "sts:AssumeRoleWithWebIdentity", "Condition": condition}],
    }
    name = f"{b.role_name('authenticated')}-extra"
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    identity = b.client("cognito-identity")
    pool_id = b.deployment.identity_pool_id
    roles = identity.get_identity_pool_roles(IdentityPoolId=pool_id)["Roles"]
    identity.set_identity_pool_roles(
        IdentityPoolId=pool_id,
        Roles=roles,
        RoleMappings={
            f"{b.provider}:{b.deployment.app_client_id}": {
                "Type": "Rules",
                "AmbiguousRoleResolution": "AuthenticatedRole",
                "RulesConfiguration": {"Rules": [{"Claim": "cognito:groups", "MatchType": "Contains", "Value": "staff", "RoleARN": arn}]},
            }
        },
    )
    return arn


def _oidc_rule(b: Breaker, claim: str, match: str, value: str, *, authenticated: str = "") -> None:
    """The OIDC provider's Rules mapping with one rule giving the team role;
    `authenticated` replaces the pool's authenticated role."""
    identity = b.client("cognito-identity")
    pool_id = b.deployment.identity_pool_id
    current = identity.get_identity_pool_roles(IdentityPoolId=pool_id)
    roles = {**current["Roles"], **({"authenticated": authenticated} if authenticated else {})}
    mappings = current["RoleMappings"]
    rule = {"Claim": claim, "MatchType": match, "Value": value, "RoleARN": b.deployment.team_role_arn}
    mappings[oidc_provider_name()] = {
        "Type": "Rules", "AmbiguousRoleResolution": "AuthenticatedRole", "RulesConfiguration": {"Rules": [rule]}
    }
    identity.set_identity_pool_roles(IdentityPoolId=pool_id, Roles=roles, RoleMappings=mappings)


def _bucket_policy_grants_guest_private(b: Breaker) -> None:
    b.client("s3").put_bucket_policy(
        Bucket=b.deployment.bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": b.deployment.unauthenticated_role_arn},
                        "Action": "s3:GetObject",
                        "Resource": _object(b, "private/*"),
                    }
                ],
            }
        ),
    )


def _second_oidc_provider(b: Breaker) -> None:
    """Another IAM OIDC provider beside the deployment's own (a uuid host: providers are account-wide)."""
    url = f"https://{uuid.uuid4().hex[:12]}.example.com"
    arn = b.client("iam").create_open_id_connect_provider(Url=url, ClientIDList=["x"])["OpenIDConnectProviderArn"]
    b.update_identity_pool(lambda c: c.update(OpenIdConnectProviderARNs=[*c["OpenIdConnectProviderARNs"], arn]))


def _user_pool_rule_starts_with(b: Breaker) -> None:
    identity = b.client("cognito-identity")
    pool_id = b.deployment.identity_pool_id
    current = identity.get_identity_pool_roles(IdentityPoolId=pool_id)
    mapping = current["RoleMappings"][f"{b.provider}:{b.deployment.app_client_id}"]
    mapping["RulesConfiguration"]["Rules"][0].update(Claim="cognito:groups", MatchType="StartsWith", Value="staff.wintercorp.com")
    identity.set_identity_pool_roles(IdentityPoolId=pool_id, Roles=current["Roles"], RoleMappings=current["RoleMappings"])


def _provider_flag(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(config: dict[str, Any]) -> None:
        for provider in config["CognitoIdentityProviders"]:
            provider[name] = value

    return change


# (rule it must trigger, how the deployment is broken). One line per way in.
BREAKAGES: list[tuple[str, str, Callable[[Breaker], Any]]] = [
    ("guest-write", "guest PutObject on public/*",
     lambda b: b.put_policy("unauthenticated", {"Effect": "Allow", "Action": "s3:PutObject", "Resource": _object(b, "public/*")})),
    ("guest-write", "guest s3:* through an attached managed policy",
     lambda b: b.attach_policy("unauthenticated", {"Effect": "Allow", "Action": "s3:*", "Resource": "*"})),
    ("guest-write", "guest may rewrite its own role",
     lambda b: b.put_policy("unauthenticated", {"Effect": "Allow", "Action": "iam:PutRolePolicy", "Resource": "*"})),
    ("guest-read-outside-public", "guest GetObject on the whole bucket",
     lambda b: b.put_policy("unauthenticated", {"Effect": "Allow", "Action": "s3:GetObject", "Resource": _object(b, "*")})),
    ("guest-read-outside-public", "bucket policy grants the guest role private/*", _bucket_policy_grants_guest_private),
    ("guest-read-outside-public", "guest GetObjectVersion on private/*",
     lambda b: b.put_policy("unauthenticated", {"Effect": "Allow", "Action": "s3:GetObjectVersion", "Resource": _object(b, "private/*")})),
    ("trust-no-aud", "authenticated trust without aud", lambda b: b.set_trust("authenticated", aud=False)),
    ("trust-no-aud", "guest trust without aud", lambda b: b.set_trust("unauthenticated", aud=False, amr="unauthenticated")),
    ("trust-no-aud", "a mapping rule's role trusts any pool", lambda b: _other_role(b, trust_aud=False)),
    ("trust-assume-role", "authenticated trust with sts:AssumeRole", lambda b: b.set_trust("authenticated", action="sts:AssumeRole")),
    ("trust-no-amr", "authenticated trust without amr", lambda b: b.set_trust("authenticated", amr=None)),
    ("trust-no-amr", "moderator (group role) trust without amr", lambda b: b.set_trust("moderator", amr=None)),
    ("trust-no-amr", "authenticated trust accepting any amr", lambda b: b.set_trust("authenticated", amr="*")),
    ("guest-trust-no-amr", "guest trust without amr", lambda b: b.set_trust("unauthenticated", amr=None)),
    ("classic-flow", "AllowClassicFlow on", lambda b: b.update_identity_pool(lambda c: c.update(AllowClassicFlow=True))),
    ("role-mapping-writable-claim", "Rules on email", lambda b: b.map_by_rules("email", "boss@example.com")),
    ("role-mapping-writable-claim", "Rules on a writable custom attribute",
     lambda b: (b.make_custom_attribute_writable("tier"), b.map_by_rules("custom:tier", "moderator"))),
    ("role-mapping-writable-claim", "Rules on name with WriteAttributes empty (all standard attributes)",
     lambda b: (b.client("cognito-idp").update_user_pool_client(
         UserPoolId=b.deployment.user_pool_id, ClientId=b.deployment.app_client_id, WriteAttributes=[]),
                b.map_by_rules("name", "Moderator"))),
    ("listbucket-unscoped", "authenticated ListBucket without condition",
     lambda b: b.put_policy("authenticated", {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": b.bucket_arn})),
    ("listbucket-unscoped", "guest ListBucket with s3:prefix *",
     lambda b: b.put_policy("unauthenticated", {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": b.bucket_arn,
                                                "Condition": {"StringLike": {"s3:prefix": "*"}}})),
    ("owner-scope", "authenticated GetObject on private/*",
     lambda b: b.put_policy("authenticated", {"Effect": "Allow", "Action": "s3:GetObject", "Resource": _object(b, "private/*")})),
    ("owner-scope", "authenticated GetObjectVersion on private/*",
     lambda b: b.put_policy("authenticated", {"Effect": "Allow", "Action": "s3:GetObjectVersion", "Resource": _object(b, "private/*")})),
    ("owner-scope", "authenticated writes private/*/* (no identity variable)",
     lambda b: b.put_policy("authenticated", {"Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteObject"],
                                              "Resource": _object(b, "private/*/*")})),
    ("owner-scope", "authenticated scoped by ${aws:userid}, which all its sessions share",
     lambda b: b.put_policy("authenticated", {"Effect": "Allow", "Action": "s3:GetObject",
                                              "Resource": _object(b, "private/${aws:userid}/*")})),
    ("owner-scope", "authenticated lists anyone's private prefix",
     lambda b: b.put_policy("authenticated", {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": b.bucket_arn,
                                              "Condition": {"StringLike": {"s3:prefix": "private/*"}}})),
    ("owner-scope", "moderator may overwrite others' published photos",
     lambda b: b.put_policy("moderator", {"Effect": "Allow", "Action": "s3:PutObject", "Resource": _object(b, "public/*")})),
    ("dynamodb-leading-keys-missing", "authenticated item actions on the table without a condition",
     lambda b: _albums(b, ["dynamodb:GetItem", "dynamodb:PutItem"])),
    ("dynamodb-leading-keys-missing", "moderator dynamodb:* on every table",
     lambda b: b.put_policy("moderator", {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"})),
    ("dynamodb-leading-keys-missing", "ForAnyValue: lets a batch name another identity beside one's own",
     lambda b: _albums(b, ["dynamodb:BatchGetItem"], {"ForAnyValue:StringEquals": {"dynamodb:LeadingKeys": [OWN_PARTITION]}})),
    ("dynamodb-leading-keys-missing", "guest may read albums of anyone",
     lambda b: _albums(b, ["dynamodb:Query"], kind="unauthenticated")),
    ("dynamodb-scan-allowed", "authenticated Scan beside the scoped item actions",
     lambda b: _albums(b, ["dynamodb:Scan"], {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [OWN_PARTITION]}})),
    ("dynamodb-scan-allowed", "team dynamodb:Scan on every table",
     lambda b: b.put_policy("team", {"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": "*"})),
    ("guest-write", "guest PutItem on its own partition of the albums table",
     lambda b: _albums(b, ["dynamodb:PutItem"], {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [OWN_PARTITION]}},
                       kind="unauthenticated")),
    ("cors-any-origin", "CORS origin *", lambda b: b.cors(["*"])),
    ("cors-any-origin", "CORS origin https://*", lambda b: b.cors([EXPECTED_ORIGIN, "https://*"])),
    ("block-public-access-off", "BlockPublicAcls off", lambda b: b.public_access_block(BlockPublicAcls=False)),
    ("block-public-access-off", "IgnorePublicAcls off", lambda b: b.public_access_block(IgnorePublicAcls=False)),
    ("block-public-access-off", "BlockPublicPolicy off", lambda b: b.public_access_block(BlockPublicPolicy=False)),
    ("block-public-access-off", "RestrictPublicBuckets off", lambda b: b.public_access_block(RestrictPublicBuckets=False)),
    ("block-public-access-off", "no Block Public Access configuration",
     lambda b: b.client("s3").delete_public_access_block(Bucket=b.deployment.bucket)),
    ("bucket-versioning-off", "versioning suspended",
     lambda b: b.client("s3").put_bucket_versioning(Bucket=b.deployment.bucket, VersioningConfiguration={"Status": "Suspended"})),
    ("server-side-token-check-off", "ServerSideTokenCheck off",
     lambda b: b.update_identity_pool(_provider_flag("ServerSideTokenCheck", False))),
    ("extra-login-provider", "Google as a second provider",
     lambda b: b.update_identity_pool(lambda c: c.update(SupportedLoginProviders={"accounts.google.com": "client.apps.googleusercontent.com"}))),
    ("role-mapping-self-asserted-claim", "OIDC Rules on email", lambda b: _oidc_rule(b, "email", "Equals", "boss@wintercorp.com")),
    ("role-mapping-self-asserted-claim", "OIDC Rules on preferred_username",
     lambda b: _oidc_rule(b, "preferred_username", "Equals", "admin")),
    ("role-mapping-lookalike-domain", "OIDC Rules hd Contains the domain",
     lambda b: _oidc_rule(b, "hd", "Contains", "wintercorp.com")),
    ("role-mapping-lookalike-domain", "user-pool Rules StartsWith a domain",
     lambda b: (b.map_by_rules("cognito:groups", "x"), _user_pool_rule_starts_with(b))),
    ("role-mapping-fallback-privileged", "the team role made the pool's authenticated role",
     lambda b: _oidc_rule(b, "hd", "Equals", "wintercorp.com", authenticated=b.deployment.team_role_arn)),
    ("extra-login-provider", "a second OpenID Connect provider", _second_oidc_provider),
    ("demo-users-on-aws", "alice on AWS", lambda b: (b.demo_user("alice@example.com"), b.on_aws())),
    ("demo-users-on-aws", "carol on AWS", lambda b: (b.demo_user("carol@example.com"), b.on_aws())),
]

# Changes that look close to a rule but are fine: doctor must stay quiet.
HARMLESS: list[tuple[str, Callable[[Breaker], Any]]] = [
    ("Rules on cognito:groups, which users cannot write", lambda b: b.map_by_rules("cognito:groups", "staff")),
    ("demo users in the sandbox", lambda b: b.demo_user("alice@example.com")),
    ("OIDC Rules hd Equals another domain", lambda b: _oidc_rule(b, "hd", "Equals", "example.org")),
    ("OIDC Rules Contains a value without a dot", lambda b: _oidc_rule(b, "groups", "Contains", "photoshare-team")),
    ("a mapping rule's role that is locked down", lambda b: _other_role(b, trust_aud=True)),
    ("a second statement scoped by LeadingKeys, as provision writes it",
     lambda b: _albums(b, ["dynamodb:GetItem", "dynamodb:BatchWriteItem"],
                       {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [OWN_PARTITION]}})),
    ("an explicit Deny on top of the policies",
     lambda b: b.put_policy("unauthenticated", {"Effect": "Deny", "Action": "s3:*", "Resource": _object(b, "private/*")})),
]


@pytest.fixture
def breaker(sandbox, provisioned, aws_settings, monkeypatch) -> Breaker:
    return Breaker(kit=sandbox, deployment=provisioned, settings=aws_settings, monkeypatch=monkeypatch)


# --- the tests --------------------------------------------------------------------------


def test_provisioned_deployment_is_clean(provisioned):
    """A fresh `provision` passes every rule: exit 0 and the all-clear line."""
    result = run_doctor()
    assert result.code == 0, result.out
    assert result.out.rstrip().splitlines()[-1].startswith("doctor: no problems found")


@pytest.mark.parametrize(("rule", "how", "breakage"), BREAKAGES, ids=[f"{r}: {h}" for r, h, _ in BREAKAGES])
def test_rule_fires_on_broken_deployment(breaker, rule, how, breakage):
    """Each way of breaking the deployment is reported by its rule, with what, why and fix."""
    breakage(breaker)
    result = run_doctor("--json")
    assert result.code == 1
    matching = [f for f in result.report["findings"] if f["rule"] == rule]
    assert matching, f"{rule} not reported for {how}; got {result.rules()}"
    for finding in matching:
        assert finding["severity"] == doctor.RULES[rule].severity.value
        assert finding["what"] and finding["why"] == doctor.RULES[rule].why and finding["fix"] == doctor.RULES[rule].fix


@pytest.mark.parametrize(("how", "change"), HARMLESS, ids=[h for h, _ in HARMLESS])
def test_harmless_change_stays_clean(breaker, how, change):
    """Changes that only look like a trap are not reported."""
    change(breaker)
    result = run_doctor("--json")
    assert (result.code, result.report["findings"]) == (0, [])


def test_every_rule_has_a_breakage():
    """No rule ships without a deployment that triggers it."""
    assert {rule for rule, _, _ in BREAKAGES} == set(doctor.RULES)


def _guest_can_put(breaker: Breaker) -> bool:
    """Whether real guest credentials from the sandbox can write under their own prefix."""
    from tests.sandbox_kit import as_boto3

    ci = breaker.kit.unsigned("cognito-identity")
    identity_id = ci.get_id(IdentityPoolId=breaker.deployment.identity_pool_id)["IdentityId"]
    creds = ci.get_credentials_for_identity(IdentityId=identity_id)["Credentials"]
    s3 = breaker.kit.client("s3", as_boto3(creds))
    try:
        s3.put_object(Bucket=breaker.deployment.bucket, Key=f"public/{identity_id}/x.jpg", Body=b"x")
    except s3.exceptions.ClientError:
        return False
    return True


def test_guest_write_finding_matches_what_the_sandbox_enforces(breaker):
    """The probe doctor evaluates is the request real guest credentials can then make."""
    assert (_guest_can_put(breaker), run_doctor().code) == (False, 0)
    breaker.put_policy("unauthenticated", {"Effect": "Allow", "Action": "s3:PutObject", "Resource": _object(breaker, "public/*")})
    assert (_guest_can_put(breaker), run_doctor().code) == (True, 1)


# Conditions doctor cannot decide: an operator the IAM evaluator does not
# implement, or one on the request's source address, time or tags, which a
# probe cannot know. The sandbox, enforcing a real request, refuses these (the
# address is loopback, the date in the future, the upload untagged;
# BinaryEquals never applies);
# doctor, auditing, must count them as allowing.
UNDECIDABLE = [
    ("IpAddress", {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}, "the value of aws:SourceIp is not known before the request is made"),
    ("DateGreaterThan", {"DateGreaterThan": {"aws:CurrentTime": "2100-01-01T00:00:00Z"}},
     "the value of aws:CurrentTime is not known before the request is made"),
    ("BinaryEquals", {"BinaryEquals": {"aws:SourceIp": "AAAA"}}, "condition operator BinaryEquals is not implemented"),
    ("RequestObjectTag", {"StringEquals": {"s3:RequestObjectTag/visibility": "public"}},
     "the value of s3:RequestObjectTag/visibility is not known before the request is made"),
]


@pytest.mark.parametrize(("operator", "condition", "reason"), UNDECIDABLE, ids=[o for o, _, _ in UNDECIDABLE])
def test_guest_write_under_a_condition_doctor_cannot_evaluate(breaker, operator, condition, reason):
    """A guest write Allow under a condition doctor cannot decide is guest-write, and the report says what it could not decide."""
    breaker.put_policy(
        "unauthenticated",
        {"Sid": "GuestUploads", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*", "Condition": condition},
    )
    assert not _guest_can_put(breaker)  # the sandbox decides the real request: the Allow does not apply
    result = run_doctor("--json")
    assert result.code == 1
    assert result.rules() == {"guest-write"}
    [finding] = result.report["findings"]
    assert finding["what"].startswith(f"The guest role {breaker.role_name('unauthenticated')} allows s3:PutObject on ")
    assert finding["what"].endswith(
        " Doctor could not fully decide (it counts an Allow it cannot evaluate as applying, a Deny as not): "
        f'inline policy doctor-test, Allow statement "GuestUploads": {reason}.'
    )
    text = run_doctor()
    assert text.code == 1 and reason in text.out


def test_deny_doctor_cannot_evaluate_does_not_hide_a_guest_write(breaker):
    """A Deny under a condition doctor cannot evaluate may not apply, so the Allow beside it is still reported."""
    breaker.put_policy(
        "unauthenticated",
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": _object(breaker, "public/*")},
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": "127.0.0.0/8"}}},
    )
    assert _guest_can_put(breaker)  # the sandbox's client is loopback: the Deny does not fire
    result = run_doctor("--json")
    assert result.code == 1
    [finding] = [f for f in result.report["findings"] if f["rule"] == "guest-write"]
    assert (
        "inline policy doctor-test, Deny statement 2: the value of aws:SourceIp is not known before the request is made."
        in finding["what"]
    )


@pytest.mark.parametrize(
    "status, said", [("", "never turned on"), ("Suspended", "suspended")], ids=["never versioned", "suspended"]
)
def test_versioning_off_says_which(provisioned, status, said):
    """A bucket that never kept versions (S3 then leaves Status out) and a suspended one are both
    bucket-versioning-off, each named; the snapshot is the live one with that one answer changed."""
    snapshot = dataclasses.replace(doctor.deployment_inspect(deployment=provisioned), versioning=status)
    [finding] = doctor.deployment_audit(snapshot=snapshot)
    assert finding.rule.id == "bucket-versioning-off"
    assert finding.what == f"Versioning of bucket {provisioned.bucket} is {said}."


def test_report_orders_findings_by_severity(breaker):
    """Text report: one block per finding, most severe first, then a summary line."""
    breaker.cors(["*"])  # medium
    breaker.set_trust("unauthenticated", aud=True, amr=None)  # low
    breaker.put_policy("unauthenticated", {"Effect": "Allow", "Action": "s3:PutObject", "Resource": _object(breaker, "*")})  # critical
    result = run_doctor()
    assert result.code == 1
    headers = [line for line in result.out.splitlines() if line.startswith("[")]
    assert [h.split(" ")[0] for h in headers] == ["[CRITICAL]", "[MEDIUM]", "[LOW]"]
    for label in ("  Resource: ", "  What: ", "  Why:  ", "  Fix:  "):
        assert result.out.count(label) == 3
    assert result.out.rstrip().splitlines()[-1] == "doctor: 3 problems found (1 critical, 1 medium, 1 low)."


def test_json_output_shape(breaker):
    """--json: the deployment, counts per severity, and each finding's fields, sorted by severity."""
    breaker.cors(["*"])
    breaker.update_identity_pool(lambda c: c.update(AllowClassicFlow=True))
    result = run_doctor("--json")
    report = result.report
    assert result.code == 1 and report["ok"] is False
    assert set(report) == {"ok", "deployment", "counts", "findings"}
    assert report["deployment"] == {
        "aws": "local",
        "region": "us-east-1",
        "user_pool_id": breaker.deployment.user_pool_id,
        "app_client_id": breaker.deployment.app_client_id,
        "identity_pool_id": breaker.deployment.identity_pool_id,
        "bucket": breaker.deployment.bucket,
    }
    assert report["counts"] == {"critical": 0, "high": 1, "medium": 1, "low": 0}
    assert [(f["rule"], f["severity"]) for f in report["findings"]] == [("classic-flow", "high"), ("cors-any-origin", "medium")]
    for finding in report["findings"]:
        assert set(finding) == {"rule", "severity", "title", "resource", "what", "why", "fix"}
        assert all(isinstance(v, str) and v for v in finding.values())
    assert breaker.deployment.app_client_secret not in result.out


def test_json_output_when_clean(provisioned):
    """--json on a clean deployment: ok, zero counts, no findings, exit 0."""
    result = run_doctor("--json")
    assert result.code == 0
    assert (result.report["ok"], result.report["findings"], set(result.report["counts"].values())) == (True, [], {0})


def test_classic_flow_flag_missing_counts_as_on(provisioned):
    """A pool whose description lacks AllowClassicFlow is reported (AWS has treated that as on)."""
    snapshot = doctor.deployment_inspect(deployment=provisioned)
    pool = {k: v for k, v in snapshot.identity_pool.items() if k != "AllowClassicFlow"}
    findings = doctor.deployment_audit(snapshot=dataclasses.replace(snapshot, identity_pool=pool))
    assert [(f.rule.id, "not set" in f.what) for f in findings] == [("classic-flow", True)]


def _no_file(settings, breaker_factory) -> str:
    """Nothing provisioned: the deployment file does not exist."""
    return "run `python manage.py provision`"


def _pool_deleted(settings, breaker_factory) -> None:
    """Provisioned, then the identity pool deleted behind the deployment file's back."""
    b = breaker_factory()
    b.client("cognito-identity").delete_identity_pool(IdentityPoolId=b.deployment.identity_pool_id)
    return "the log has the detail"


def _unreachable(settings, breaker_factory) -> None:
    """Provisioned, then the endpoint moved to a port nothing listens on."""
    from sandbox.server import free_port

    breaker_factory()
    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    settings.AWS_MAX_ATTEMPTS = 1
    return "Cannot reach the sandbox"


@pytest.mark.parametrize(
    "situation", [_no_file, _pool_deleted, _unreachable], ids=["no deployment file", "identity pool deleted", "endpoint unreachable"]
)
def test_unreadable_deployment_exits_2(request, aws_settings, caplog, situation):
    """When the deployment cannot be read: exit 2, a fixed human message, the detail only in the log."""
    hint = situation(aws_settings, lambda: request.getfixturevalue("breaker"))
    with caplog.at_level(logging.WARNING, logger="infra"):
        result = run_doctor()
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith(CANNOT_READ) and hint in result.err
    assert "Exception" not in result.err and "Error" not in result.err  # no AWS text on the console
    assert any(r.getMessage().startswith("doctor: ") for r in caplog.records if r.name == "infra")


def test_unreadable_deployment_json(aws_settings):
    """--json still prints JSON when nothing can be read, and exits 2."""
    result = run_doctor("--json")
    assert result.code == 2
    assert result.report["ok"] is False and result.report["error"] == "cannot-read-deployment"
    assert result.report["message"].startswith(CANNOT_READ)


def test_manage_py_exit_status_when_nothing_is_provisioned(tmp_path):
    """`python manage.py doctor` as a process: status 2 and the fixed message on stderr."""
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "photoshare.settings.test",
        "PHOTOSHARE_VAR_DIR": str(tmp_path),
        "PHOTOSHARE_DEPLOYMENT_FILE": str(tmp_path / "missing.json"),
    }
    for name in ("COGNITO_USER_POOL_ID", "COGNITO_APP_CLIENT_ID", "COGNITO_APP_CLIENT_SECRET", "COGNITO_IDENTITY_POOL_ID"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "manage.py", "doctor"], cwd=root, env=env, capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert CANNOT_READ in done.stderr and "Traceback" not in done.stderr


def test_an_albums_finding_names_the_request_it_would_allow(breaker):
    """dynamodb-leading-keys-missing says which request on whose partition: another identity's, by its placeholder."""
    _albums(breaker, ["dynamodb:GetItem"])
    [finding] = [f for f in run_doctor("--json").report["findings"] if f["rule"] == "dynamodb-leading-keys-missing"]
    assert finding["resource"] == breaker.deployment.authenticated_role_arn
    assert "dynamodb:GetItem on table " + breaker.deployment.albums_table in finding["what"]
    assert "partition key <another identity>" in finding["what"]
    assert "Scan" not in finding["what"]


def test_a_scan_conditioned_on_leading_keys_is_still_reported(breaker):
    """ForAllValues over a Scan's empty set of partition keys holds: the condition does not save it."""
    _albums(breaker, ["dynamodb:Scan"], {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [OWN_PARTITION]}})
    findings = run_doctor("--json").report["findings"]
    assert [f["rule"] for f in findings] == ["dynamodb-scan-allowed"]
    assert "dynamodb:Scan on table" in findings[0]["what"]
