"""A bucket's policy, the resource-based half of an S3 decision.

Within one account AWS evaluates a bucket policy together with the caller's
identity policies: an explicit deny in either refuses; otherwise an allow in
either suffices (a bucket policy can grant on its own). Session policies
limit a grant naming the role, not one naming the session itself; whom a
`Principal` names is `iampolicy.principals`' job.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session

The account root is limited by no identity policy, but a bucket-policy Deny
naming it refuses it, except `GetBucketPolicy`, `PutBucketPolicy` and
`DeleteBucketPolicy`, which "the root principal in a bucket owner's account
can perform ... even if their bucket policy explicitly denies the root
principal's access", so that an owner cannot lock itself out
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketPolicy.html,
API_PutBucketPolicy.html, API_GetBucketPolicy.html).

Block Public Access (`public_access.py`) is applied here too: a public
policy grants nothing to the anonymous caller under `RestrictPublicBuckets`,
and `PutBucketPolicy` checks what it is given (`policy_check`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from iampolicy import Decision, Effect, Explanation, Mode, evaluate, explain
from iampolicy.conditions import as_list
from iampolicy.principals import Caller
from sandbox import moto_seams
from sandbox.errors import AwsError
from sandbox.s3 import public_access
from sandbox.s3.actions import Need

ROOT_KEEPS = frozenset({"s3:getbucketpolicy", "s3:putbucketpolicy", "s3:deletebucketpolicy"})
_ARN_PREFIX = "arn:aws:s3:::"
_MALFORMED_JSON = "Policies must be valid JSON and the first byte must be '{'"


def bucket_of(resource: str) -> str | None:
    """The bucket an S3 ARN names (`arn:aws:s3:::bucket/key` -> `bucket`)."""
    if not resource.startswith(_ARN_PREFIX):
        return None
    return resource[len(_ARN_PREFIX):].split("/", 1)[0] or None


@dataclass(frozen=True)
class BucketPolicyExplanation(Explanation):
    """The bucket policy's side of a decision, whose reason says that it is
    the bucket policy, a resource-based policy, that decides."""

    restricted: bool = False  # RestrictPublicBuckets set its grants aside

    def reason(self) -> str:
        if self.restricted:  # what the policy would have granted, set aside
            granted = Explanation.reason(dataclasses.replace(self, effect=Effect.ALLOW, restricted=False))
            return (
                "The bucket's policy is public and its RestrictPublicBuckets block public access setting is on, "
                f"so it grants nothing to anonymous callers: without that setting, {granted[:1].lower()}{granted[1:]}"
            )
        inner = super().reason().replace("the caller's policies", "the bucket policy's statements naming this caller")
        if self.effect is Effect.DENY:
            return f"The bucket policy denies it, whatever the caller's own policies allow: {inner}"
        if self.effect is Effect.ALLOW:
            return f"The bucket policy grants it: {inner}"
        return f"The bucket policy grants nothing here: {inner}"


@dataclass(frozen=True)
class BucketSide:
    """The bucket policy's decision on one need, and its explanation (inspection on)."""

    decision: Decision
    explanation: BucketPolicyExplanation | None
    document: str
    bucket: str


def bucket_decide(need: Need, caller: Caller, context: Mapping[str, Any], *, explained: bool) -> BucketSide | None:
    """The bucket policy's decision on `need` for `caller`; None when the
    need is not on a bucket, or its bucket has no policy."""
    bucket = bucket_of(need.resource)
    document = moto_seams.s3.bucket_policy(bucket) if bucket is not None else None
    if bucket is None or document is None:
        return None
    restricted = caller.anonymous and public_access.restricts_public_bucket(bucket, document)
    why = None
    if explained:
        found = explain(
            [document], action=need.action, resource=need.resource, context=context,
            names=(f"the bucket policy of {bucket}",), principal=caller,
        )
        fields = {f.name: getattr(found, f.name) for f in dataclasses.fields(found)}
        if restricted and found.effect is Effect.ALLOW:
            fields["effect"] = Effect.IMPLICIT_DENY
        why = BucketPolicyExplanation(**fields, restricted=restricted)
        decision = why.decision
    else:
        decision = evaluate([document], action=need.action, resource=need.resource, context=context, mode=Mode.ENFORCE, principal=caller)
    if restricted and decision.allowed:
        decision = Decision.IMPLICIT_DENY
    return BucketSide(decision, why, document, bucket)


def session_grant(side: BucketSide, need: Need, caller: Caller, context: Mapping[str, Any]) -> bool:
    """Whether the bucket policy grants `need` by naming the session's own
    ARN, which no session policy limits."""
    return evaluate(
        [side.document], action=need.action, resource=need.resource, context=context, mode=Mode.ENFORCE,
        principal=caller.as_session_only(),
    ).allowed


def root_keeps(action: str) -> bool:
    """Whether the account root may do this whatever the bucket policy denies."""
    return action.lower() in ROOT_KEEPS


def policy_check(*, bucket: str, document: bytes, principal_arn: str, resource: str) -> AwsError | None:
    """What `PutBucketPolicy` refuses in the policy it is given: one it cannot
    read (MalformedPolicy, as S3 answers) and, under `BlockPublicPolicy`, a
    public one (AccessDenied in S3's words)."""
    try:
        text = document.decode("utf-8")
        parsed = json.loads(text)
    except (UnicodeDecodeError, ValueError):
        return AwsError("MalformedPolicy", _MALFORMED_JSON, 400)
    if not text.lstrip().startswith("{") or not isinstance(parsed, Mapping):
        return AwsError("MalformedPolicy", _MALFORMED_JSON, 400)
    statements = as_list(parsed.get("Statement"))
    if not statements:
        return AwsError("MalformedPolicy", "Missing required field Statement", 400)
    for statement in statements:
        if not isinstance(statement, Mapping):
            return AwsError("MalformedPolicy", "Statement is not a JSON object", 400)
        if statement.get("Effect") not in ("Allow", "Deny"):
            return AwsError("MalformedPolicy", "Invalid effect", 400)
        for required in (("Principal", "NotPrincipal"), ("Action", "NotAction"), ("Resource", "NotResource")):
            if not any(name in statement for name in required):
                return AwsError("MalformedPolicy", f"Missing required field {required[0]}", 400)
    if public_access.blocks_public_policy(bucket) and public_access.policy_is_public(text):
        return AwsError("AccessDenied", public_access.blocked_message(principal_arn, resource), 403)
    return None
