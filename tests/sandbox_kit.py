"""Test-side helpers for driving the sandbox as a client would: boto3 clients
pointed at its endpoint, and a `Deployment` builder that creates a user pool,
an identity pool, roles and a bucket through the public APIs only.

Nothing here imports the sandbox's internals except `sandbox.server.running`,
the documented way to start it in-process. The roles get the policies
`provision` deploys (`infra/policies/`), read from their files."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from sandbox.server import running

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
ADMIN = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
PASSWORD = "Correct-Horse-9"
POLICIES = Path(__file__).resolve().parents[1] / "infra" / "policies"

_CONFIG = Config(
    retries={"max_attempts": 1, "mode": "standard"},
    connect_timeout=5,
    read_timeout=30,
    s3={"addressing_style": "path"},
    signature_version="v4",  # S3 presigns with SigV2 by default, which AWS refuses for new buckets
)


@dataclass
class SandboxKit:
    endpoint: str

    def client(self, service: str, credentials: dict[str, str] | None = None, **kwargs: Any):
        """A boto3 client for `service`; admin keys unless `credentials` (boto3 kwargs) given."""
        creds = ADMIN if credentials is None else credentials
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name=REGION, config=_CONFIG, **creds, **kwargs
        )

    def unsigned(self, service: str):
        """A client that signs nothing, as a browser calling a public API would."""
        from botocore import UNSIGNED

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            config=_CONFIG.merge(Config(signature_version=UNSIGNED)),
        )

    def deployment(self, **options: Any) -> "Deployment":
        return Deployment.create(self, **options)


@contextlib.contextmanager
def start_kit(**server_options: Any) -> Iterator[SandboxKit]:
    with running(**server_options) as server:
        yield SandboxKit(endpoint=server.endpoint)


def as_boto3(credentials: dict[str, Any]) -> dict[str, str]:
    """GetCredentialsForIdentity's `Credentials` as boto3 client kwargs."""
    return {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials.get("SecretKey") or credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }


def s3_from_answer(answer: dict[str, Any]):
    """An S3 client built only from POST /api/credentials' answer, as the
    browser builds its signer."""
    return boto3.client(
        "s3",
        endpoint_url=answer["endpoint"],
        region_name=answer["region"],
        aws_access_key_id=answer["accessKeyId"],
        aws_secret_access_key=answer["secretAccessKey"],
        aws_session_token=answer["sessionToken"],
        config=_CONFIG,
    )


def infra_policy(name: str, *, bucket: str = "", identity_pool_id: str = "") -> dict[str, Any]:
    """`infra/policies/<name>.json`, the policies provision deploys, with its placeholders filled in."""
    text = (POLICIES / f"{name}.json").read_text()
    return json.loads(text.replace("__BUCKET__", bucket).replace("__IDENTITY_POOL_ID__", identity_pool_id))


def trust_policy(pool_id: str, amr: str) -> str:
    """The trust policy of the identity pool's `authenticated` or `unauthenticated` role, as JSON text."""
    return json.dumps(infra_policy(f"trust-{amr}", identity_pool_id=pool_id))


def owner_policy(bucket: str) -> dict[str, Any]:
    """Signed-in users: own `private/<identity id>/` and `public/<identity id>/`, read `public/*/`."""
    return infra_policy("authenticated", bucket=bucket)


def guest_policy(bucket: str) -> dict[str, Any]:
    """Guests: read `public/<publisher>/`, one publisher at a time, and nothing else."""
    return infra_policy("unauthenticated", bucket=bucket)


@dataclass
class Deployment:
    """A fresh, self-contained Photoshare-shaped deployment in the sandbox: a
    user pool with a public app client, users, an identity pool whose roles use
    the policies above, and a bucket. Every name is unique, so tests never see
    each other's leftovers."""

    kit: SandboxKit
    suffix: str
    user_pool_id: str
    client_id: str
    identity_pool_id: str
    bucket: str
    roles: dict[str, str] = field(default_factory=dict)  # name -> ARN
    users: dict[str, str] = field(default_factory=dict)  # email -> password

    @property
    def provider(self) -> str:
        return f"cognito-idp.{REGION}.amazonaws.com/{self.user_pool_id}"

    @classmethod
    def create(
        cls,
        kit: SandboxKit,
        *,
        allow_guests: bool = True,
        classic_flow: bool = False,
        server_side_token_check: bool = True,
        users: tuple[str, ...] = ("alice", "bob"),
    ) -> "Deployment":
        suffix = uuid.uuid4().hex[:8]
        idp = kit.client("cognito-idp")
        pool_id = idp.create_user_pool(PoolName=f"photoshare-{suffix}", UsernameAttributes=["email"])["UserPool"]["Id"]
        client_id = idp.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="web",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        identity = kit.client("cognito-identity")
        identity_pool_id = identity.create_identity_pool(
            IdentityPoolName=f"photoshare_{suffix}",
            AllowUnauthenticatedIdentities=allow_guests,
            AllowClassicFlow=classic_flow,
            CognitoIdentityProviders=[
                {
                    "ProviderName": f"cognito-idp.{REGION}.amazonaws.com/{pool_id}",
                    "ClientId": client_id,
                    "ServerSideTokenCheck": server_side_token_check,
                }
            ],
        )["IdentityPoolId"]
        bucket = f"photos-{suffix}"
        kit.client("s3").create_bucket(Bucket=bucket)
        dep = cls(kit, suffix, pool_id, client_id, identity_pool_id, bucket)
        dep.roles["authenticated"] = dep.create_role("auth", trust_policy(identity_pool_id, "authenticated"), owner_policy(bucket))
        dep.roles["unauthenticated"] = dep.create_role("guest", trust_policy(identity_pool_id, "unauthenticated"), guest_policy(bucket))
        identity.set_identity_pool_roles(IdentityPoolId=identity_pool_id, Roles=dict(dep.roles))
        for name in users:
            dep.add_user(f"{name}@example.com")
        return dep

    def create_role(self, name: str, trust: str, policy: dict[str, Any] | None = None) -> str:
        iam = self.kit.client("iam")
        role_name = f"{name}-{self.suffix}"
        arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        if policy is not None:
            iam.put_role_policy(RoleName=role_name, PolicyName="access", PolicyDocument=json.dumps(policy))
        return arn

    def add_user(self, email: str, password: str = PASSWORD) -> None:
        from tests.actors import user_create  # tests.actors builds on this module

        user_create(self.kit, user_pool_id=self.user_pool_id, email=email, password=password)
        self.users[email] = password

    def sign_in(self, name: str) -> dict[str, str]:
        """USER_PASSWORD_AUTH for `name` ('alice' or an email); returns AuthenticationResult."""
        from tests.actors import user_tokens

        email = name if "@" in name else f"{name}@example.com"
        return user_tokens(self.kit, client_id=self.client_id, email=email, password=self.users[email])

    def id_token(self, name: str) -> str:
        return self.sign_in(name)["IdToken"]

    def logins(self, id_token: str) -> dict[str, str]:
        return {self.provider: id_token}

    def identity_id(self, name: str) -> str:
        """GetId for a signed-in user."""
        return self.kit.unsigned("cognito-identity").get_id(
            IdentityPoolId=self.identity_pool_id, Logins=self.logins(self.id_token(name))
        )["IdentityId"]

    def user_credentials(self, name: str) -> tuple[str, dict[str, str]]:
        """The enhanced flow for `name`: (identity ID, boto3 credential kwargs)."""
        from tests.actors import identity_credentials

        return identity_credentials(self.kit, identity_pool_id=self.identity_pool_id, logins=self.logins(self.id_token(name)))

    def guest_credentials(self) -> tuple[str, dict[str, str]]:
        from tests.actors import identity_credentials

        return identity_credentials(self.kit, identity_pool_id=self.identity_pool_id)

    def s3_as(self, credentials: dict[str, str]):
        return self.kit.client("s3", credentials)

    def put_admin(self, key: str, body: bytes = b"photo") -> None:
        """Seed an object with the admin key (as the server would)."""
        self.kit.client("s3").put_object(Bucket=self.bucket, Key=key, Body=body)
