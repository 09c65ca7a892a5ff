"""May the caller do it: each IAM action the request needs, evaluated on the
caller's identity policies, failing closed.

S3 needs are read from the REST request (`sandbox/s3/actions.py`); every
other service needs `<service>:<operation>` on the resource the request
names. The evaluator runs as an enforcer (`Mode.ENFORCE`): a statement with an
operator it does not know never allows. Refusals name the principal, action
and resource as AWS's access-denied messages do.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from iampolicy import Decision, Mode, evaluate
from sandbox import moto_seams
from sandbox.cognito_identity import responses as cognito_identity
from sandbox.errors import Failure, failure_error
from sandbox.gateway.authentication import Principal
from sandbox.gateway.request import Request, unsigned_operations
from sandbox.s3 import actions as s3_actions
from sandbox.s3.actions import Need

log = logging.getLogger("sandbox")


def exempt(request: Request, principal: Principal) -> bool:
    """Requests IAM does not authorize: the account root's, `sts:GetCallerIdentity`
    (always allowed), and the public APIs, which stay public when signed."""
    if principal.admin or (request.service == "sts" and request.operation == "GetCallerIdentity"):
        return True
    return request.operation in unsigned_operations(request.service)


def needs(request: Request, *, region: str) -> list[Need]:
    """Every permission the request needs; all must be allowed."""
    if request.service == "s3":
        return s3_actions.needs(
            method=request.method,
            raw_path=request.raw_path,
            query=request.query_dict,
            headers=request.headers,
            body=request.body,
        )
    return [Need(f"{request.service}:{request.operation}", _resource(request.service, request.params, region))]


def request_authorize(request: Request, principal: Principal, *, region: str) -> None:
    """Refuse (AccessDenied in the service's format) unless every need is allowed."""
    for need in needs(request, region=region):
        context = {**principal.context, **need.context}
        decision = evaluate(principal.policies, action=need.action, resource=need.resource, context=context, mode=Mode.ENFORCE)
        if not decision.allowed:
            why = "with an explicit deny in an identity-based policy" if decision is Decision.DENY else (
                f"because no identity-based policy allows the {need.action} action"
            )
            detail = f"User: {principal.arn} is not authorized to perform: {need.action} on resource: {need.resource} {why}"
            log.info("denied: %s", detail)
            raise failure_error(Failure.ACCESS_DENIED, request.service, detail=detail)


def _resource(service: str, params: Mapping[str, Any], region: str) -> str:
    """The ARN a non-S3 call acts on, where the request names one."""
    account = moto_seams.ACCOUNT_ID
    if service == "cognito-identity":
        return cognito_identity.resource_arn(params, region)
    if service == "cognito-idp" and isinstance(params.get("UserPoolId"), str):
        return f"arn:aws:cognito-idp:{region}:{account}:userpool/{params['UserPoolId']}"
    if service == "iam":
        if params.get("RoleName"):
            return f"arn:aws:iam::{account}:role/{params['RoleName']}"
        if params.get("UserName"):
            return f"arn:aws:iam::{account}:user/{params['UserName']}"
        if params.get("PolicyArn"):
            return params["PolicyArn"]
    if service == "sts" and params.get("RoleArn"):
        return params["RoleArn"]
    return "*"
