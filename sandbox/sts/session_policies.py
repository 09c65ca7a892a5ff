"""Session policies: what `AssumeRole*` takes as `Policy` (inline JSON) and
`PolicyArns` (managed policies), and what Cognito passes for guests.

A session's effective permissions are the intersection of its role's
identity policies and its session policies: an action needs an allow from
both, and an explicit deny in either refuses it. The session policies are
one set (the inline one and the managed ones together, as AWS combines
them), so an allow from any of them suffices on the session's side; the
gateway decides in `sandbox/gateway/authorization.py`.
https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session
https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html

AWS packs the inline policy and the ARNs into a binary form with a limit of
its own, and reports how full it is as `PackedPolicySize` (a percentage);
the format and limit are not published. The sandbox packs by deflating the
minified policy and the ARNs, with a limit (`PACKED_LIMIT`) that a 2,048
character policy of little repetition exceeds, so `PackedPolicyTooLarge`
can be met and tested as on AWS.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

from sandbox import moto_seams
from sandbox.errors import AwsError

INLINE_NAME = "session policy (inline)"  # how explanations label the inline session policy
MAX_INLINE_CHARS = 2048  # the API's length constraint on Policy
MAX_ARNS = 10  # PolicyArns: at most ten managed policies
PACKED_LIMIT = 1024  # bytes of the sandbox's packed form; see the module docstring


@dataclass(frozen=True)
class SessionPolicy:
    name: str  # INLINE_NAME, or the managed policy's ARN
    document: str  # JSON text, as the evaluator reads it


def _validation(message: str) -> AwsError:
    return AwsError("ValidationError", f"1 validation error detected: {message}", 400)


def _arns(params: Mapping[str, str]) -> list[str]:
    """`PolicyArns.member.N.arn`, in N's order; a gap or a stray field is refused."""
    found: dict[int, str] = {}
    for name, value in params.items():
        if not name.startswith("PolicyArns."):
            continue
        parts = name.split(".")
        if len(parts) != 4 or parts[1] != "member" or parts[3] != "arn" or not parts[2].isdigit():
            raise _validation(f"Unknown parameter '{name}'.")
        found[int(parts[2])] = value
    if len(found) > MAX_ARNS:
        raise _validation(f"Value at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to {MAX_ARNS}")
    if sorted(found) != list(range(1, len(found) + 1)):
        raise _validation("Value at 'policyArns' failed to satisfy constraint: members must be numbered from 1 without gaps")
    for arn in found.values():
        if not 20 <= len(arn) <= 2048:
            raise _validation("Value at 'policyArns.member.arn' failed to satisfy constraint: Member must have length between 20 and 2048")
    return [found[n] for n in sorted(found)]


def packed_percent(inline: str | None, arns: list[str]) -> int:
    """How full the packed form is, as `PackedPolicySize` reports it (may exceed 100)."""
    minified = json.dumps(json.loads(inline), separators=(",", ":")) if inline else ""
    packed = zlib.compress(("\n".join([minified, *arns])).encode(), 9)
    return -(-len(packed) * 100 // PACKED_LIMIT)  # rounded up: a policy of any size uses some room


def from_request(params: Mapping[str, str]) -> tuple[SessionPolicy, ...]:
    """The session policies an `AssumeRole*` call asks for, checked as STS
    checks them: length, JSON, each ARN a managed policy IAM has, packed size."""
    inline = params.get("Policy")
    arns = _arns(params)
    policies: list[SessionPolicy] = []
    if inline is not None:
        if not 1 <= len(inline) <= MAX_INLINE_CHARS:
            raise _validation(
                f"Value at 'policy' failed to satisfy constraint: Member must have length less than or equal to {MAX_INLINE_CHARS}"
            )
        try:
            document = json.loads(inline)
        except ValueError as exc:
            raise AwsError("MalformedPolicyDocument", "The policy is not in the valid JSON format.", 400) from exc
        if not isinstance(document, dict) or "Statement" not in document:
            raise AwsError("MalformedPolicyDocument", "Syntax errors in policy.", 400)
        policies.append(SessionPolicy(INLINE_NAME, inline))
    for arn in arns:
        document_text = moto_seams.iam.managed_policy_document(arn)
        if document_text is None:
            # STS lists no NoSuchEntity; the wording is the sandbox's.
            raise AwsError("MalformedPolicyDocument", f"Policy {arn} does not exist or is not attachable.", 400)
        policies.append(SessionPolicy(arn, document_text))
    percent = packed_percent(inline, arns) if policies else 0
    if percent > 100:
        raise AwsError("PackedPolicyTooLarge", f"Packed policy consumes {percent}% of allotted space, please use smaller policy.", 400)
    return tuple(policies)
