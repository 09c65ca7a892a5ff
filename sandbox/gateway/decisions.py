"""The last 1,000 authorization decisions, each under the request ID its
response carried (S3's `x-amz-request-id`, the others' `x-amzn-RequestId`),
in the JSON that `GET /_sandbox/decisions/<request id>` answers.

A decision is kept as the authorizer made it (its `Verdict`, with the
`iampolicy` explanations); turning it into JSON only formats what is kept, it
never evaluates a policy again. Exempt requests (the root key,
`GetCallerIdentity`, the public APIs) are kept too, with `exempt` saying why
IAM was not asked, and so are requests refused before IAM (a bad signature),
so every request the sandbox classified has its decision.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sandbox.errors import AwsError
from sandbox.gateway.authentication import Principal
from sandbox.gateway.authorization import Verdict

KEPT = 1000  # decisions; the oldest goes first


@dataclass(frozen=True)
class DecisionRecord:
    request_id: str
    time: dt.datetime
    service: str
    operation: str | None
    principal: Principal | None  # None: an unsigned request, or one whose signature failed
    verdict: Verdict | None  # None: refused before IAM was asked
    refusal: AwsError | None = None  # why it was refused before IAM, if it was

    def as_json(self) -> dict[str, Any]:
        verdict = self.verdict
        allowed = verdict is not None and verdict.allowed and self.refusal is None
        return {
            "requestId": self.request_id,
            "time": self.time.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "service": self.service,
            "operation": self.operation,
            "principal": _principal(self.principal),
            "exempt": verdict.exempt if verdict is not None else None,
            "allowed": allowed,
            "reason": self._reason(),
            "message": verdict.message if verdict is not None else None,
            "needs": [e.as_json() for e in verdict.explained] if verdict is not None else [],
        }

    def _reason(self) -> str:
        verdict = self.verdict
        if verdict is None:
            what = f"{self.refusal.code}: {self.refusal.message}" if self.refusal else "the request could not be read"
            return f"Refused before IAM was asked ({what})."
        if verdict.exempt is not None:
            return f"Allowed without asking IAM. {verdict.exempt}"
        if verdict.refused:  # a multi-object delete, some of whose keys were refused
            kept = len(verdict.deletes.objects) if verdict.deletes is not None else 0
            why = verdict.message or "Denied."
            return f"{kept} of {kept + len(verdict.refused)} objects may be deleted; the others are refused ({why})."
        if not verdict.explained:
            return "Allowed." if verdict.allowed else (verdict.message or "Denied.")
        # Each need's explanations end with the deciding one (the bucket policy's may come before it).
        needed = list(dict.fromkeys((e.action, e.resource) for e in verdict.explained))
        if not verdict.allowed or len(needed) == 1:
            return verdict.explained[-1].reason()
        permissions = ", ".join(f"{action} on {resource}" for action, resource in needed)
        return f"Every permission the request needs is allowed: {permissions}."


def _principal(principal: Principal | None) -> dict[str, Any]:
    if principal is None:
        return {"arn": None, "type": "Anonymous", "identityId": None, "roleArn": None, "accessKeyId": None}
    return {
        "arn": principal.arn,
        "type": principal.kind,
        "identityId": principal.identity_id,
        "roleArn": principal.role_arn,
        "accessKeyId": principal.access_key_id,
    }


class Decisions:
    """A bounded, thread-safe ring of decisions by request ID."""

    def __init__(self, kept: int = KEPT) -> None:
        self._kept = kept
        self._records: OrderedDict[str, DecisionRecord] = OrderedDict()
        self._lock = threading.Lock()

    def keep(self, record: DecisionRecord) -> None:
        with self._lock:
            self._records[record.request_id] = record
            while len(self._records) > self._kept:
                self._records.popitem(last=False)

    def get(self, request_id: str) -> DecisionRecord | None:
        with self._lock:
            return self._records.get(request_id)

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)
