"""STS `AssumeRole`, served by the sandbox so that its session policies
(`Policy`, `PolicyArns`) are checked as STS checks them and kept with the
session for the gateway to enforce (moto stores `Policy` and enforces
nothing). Whether the caller may assume the role, by its identity policies
and by the role's trust policy (`trust.py`), the gateway decided before this
runs, so one decision stands for the request.
https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping

from sandbox import moto_seams
from sandbox.errors import AwsError
from sandbox.sts import session_policies
from sandbox.sts.sessions import session_create
from sandbox.sts.web_identity import (
    assume_role_with_web_identity,
    duration_of,
    packed_size_element,
    params_required,
    session_elements,
)

_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")


def answer(operation: str | None, params: Mapping[str, str], *, region: str) -> bytes:
    """The STS operations the sandbox serves itself, as Query-protocol XML."""
    if operation == "AssumeRole":
        return assume_role(params, region=region)
    if operation == "AssumeRoleWithWebIdentity":
        return assume_role_with_web_identity(params, region=region)
    raise AwsError("InvalidAction", "The sandbox has no SAML provider.", 400)


def assume_role(params: Mapping[str, str], *, region: str) -> bytes:
    params_required(params, "RoleArn", "RoleSessionName")
    name = params["RoleSessionName"]
    if not _SESSION_NAME.match(name):
        raise AwsError(
            "ValidationError",
            f"1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64",
            400,
        )
    duration = duration_of(params)
    policies = session_policies.from_request(params)
    role = moto_seams.iam.role_by_arn(params["RoleArn"])
    if role is None:
        raise AwsError("AccessDenied", "Not authorized to perform sts:AssumeRole", 403)
    session = session_create(role_arn=role.arn, context={}, duration_seconds=duration, region=region, session_name=name, policies=policies)
    return (
        '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        "<AssumeRoleResult>"
        f"{session_elements(session)}"
        f"{packed_size_element(params, policies)}"
        "</AssumeRoleResult>"
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        "</AssumeRoleResponse>"
    ).encode()
