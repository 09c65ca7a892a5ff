"""Fixtures for DynamoDB behind the gateway: a user pool with Alice and Bob,
an albums table shaped as `provision` makes it (partition key `identityId`,
sort key `albumId`), and `pool_under(...)`: a fresh identity pool whose
authenticated (and guest) role holds exactly the policies a case gives, and
everyone's credentials from it, through the enhanced flow, over HTTP."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.sandbox_kit import ACCOUNT_ID, REGION, Deployment, SandboxKit, trust_policy

SUB = "${cognito-identity.amazonaws.com:sub}"
ALLOWED = "allowed"
DENIED = "AccessDeniedException 400"
INVALID = "ValidationException 400"
USER_ACTIONS = ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "BatchGetItem"]


def table_arn(table: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{table}"


def own_rows(table: str, actions: list[str] = USER_ACTIONS, **condition: Any) -> dict[str, Any]:
    """The issue's statement: the actions on the table, only in the caller's own partition."""
    return {
        "Effect": "Allow",
        "Action": [f"dynamodb:{a}" for a in actions],
        "Resource": table_arn(table),
        "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [SUB]}, **condition},
    }


def outcome(call, **kwargs: Any) -> str:
    """'allowed', or the refusal as '<error code> <HTTP status>'."""
    try:
        call(**kwargs)
    except ClientError as error:
        return f"{error.response['Error']['Code']} {error.response['ResponseMetadata']['HTTPStatusCode']}"
    return ALLOWED


@dataclass
class Albums:
    """The deployment and its albums table."""

    dep: Deployment
    table: str

    def admin(self):
        return self.dep.kit.client("dynamodb")

    def seed(self, identity_id: str, album_id: str, **attributes: str) -> None:
        """An album written with the admin key, as another user would have left it."""
        item = {"identityId": {"S": identity_id}, "albumId": {"S": album_id}}
        item.update({k: {"S": v} for k, v in attributes.items()})
        self.admin().put_item(TableName=self.table, Item=item)


@dataclass
class Person:
    identity_id: str
    credentials: dict[str, str]
    kit: SandboxKit

    def dynamodb(self):
        return self.kit.client("dynamodb", self.credentials)


@dataclass
class Pool:
    alice: Person
    bob: Person
    guest: Person | None


def create_albums_table(kit: SandboxKit, name: str) -> None:
    kit.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "identityId", "KeyType": "HASH"}, {"AttributeName": "albumId", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "identityId", "AttributeType": "S"},
            {"AttributeName": "albumId", "AttributeType": "S"},
            {"AttributeName": "title", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-title",
                "KeySchema": [{"AttributeName": "title", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture(scope="module")
def albums(sandbox: SandboxKit) -> Albums:
    dep = sandbox.deployment(users=("alice", "bob"))
    table = f"{dep.suffix}-albums"
    create_albums_table(sandbox, table)
    return Albums(dep, table)


def pool_under(albums: Albums, statements: list[dict], guest_statements: list[dict] | None = None) -> Pool:
    """A fresh identity pool whose authenticated role holds `statements` (and
    whose guest role, when given, `guest_statements`), with Alice's, Bob's and
    a guest's credentials from it."""
    kit, base = albums.dep.kit, albums.dep
    suffix = uuid.uuid4().hex[:8]
    identity, iam = kit.client("cognito-identity"), kit.client("iam")
    pool_id = identity.create_identity_pool(
        IdentityPoolName=f"ddb_{suffix}",
        AllowUnauthenticatedIdentities=guest_statements is not None,
        AllowClassicFlow=False,
        CognitoIdentityProviders=[{"ProviderName": base.provider, "ClientId": base.client_id, "ServerSideTokenCheck": False}],
    )["IdentityPoolId"]
    roles = {}
    for amr, policy in (("authenticated", statements), ("unauthenticated", guest_statements)):
        if policy is None:
            continue
        name = f"ddb-{amr[:5]}-{suffix}"
        roles[amr] = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_policy(pool_id, amr))["Role"]["Arn"]
        document = json.dumps({"Version": "2012-10-17", "Statement": policy})
        iam.put_role_policy(RoleName=name, PolicyName="albums", PolicyDocument=document)
    identity.set_identity_pool_roles(IdentityPoolId=pool_id, Roles=roles)
    from tests.actors import identity_credentials

    people = {}
    for name in ("alice", "bob"):
        logins = base.logins(base.id_token(name))
        identity_id, credentials = identity_credentials(kit, identity_pool_id=pool_id, logins=logins)
        people[name] = Person(identity_id, credentials, kit)
    guest = None
    if guest_statements is not None:
        identity_id, credentials = identity_credentials(kit, identity_pool_id=pool_id)
        guest = Person(identity_id, credentials, kit)
    return Pool(people["alice"], people["bob"], guest)


ORIGIN = "http://127.0.0.1:8000"


def signed_post(
    endpoint: str,
    credentials: dict[str, str],
    operation: str,
    body: dict | str,
    *,
    service: str = "dynamodb",
    headers: dict[str, str] | None = None,
    query: str = "",
):
    """A DynamoDB call as a page sends it with fetch (JSON 1.0, SigV4, an
    Origin), or bent as a test needs: raw body text, another signing service,
    other headers, a query string."""
    import requests
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    data = body if isinstance(body, str) else json.dumps(body)
    sent = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"DynamoDB_20120810.{operation}", **(headers or {})}
    url = endpoint + "/" + (f"?{query}" if query else "")
    request = AWSRequest(method="POST", url=url, data=data, headers=sent)
    creds = Credentials(credentials["aws_access_key_id"], credentials["aws_secret_access_key"], credentials.get("aws_session_token"))
    SigV4Auth(creds, service, REGION).add_auth(request)
    return requests.post(url, data=data, headers={**dict(request.headers), "Origin": ORIGIN}, timeout=10)
