"""`doctor`'s two outputs: text for a person (one block per finding, then a
summary line) and `--json` for a script. Both list the findings in the
order `deployment_audit` gives, most severe first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from infra.doctor.rules import RULES, Finding, Severity
from infra.doctor.snapshot import Snapshot


def _finding_json(finding: Finding) -> dict[str, str]:
    rule = finding.rule
    return {
        "rule": rule.id,
        "severity": rule.severity.value,
        "title": rule.title,
        "resource": finding.resource,
        "what": finding.what,
        "why": rule.why,
        "fix": rule.fix,
    }


def _counts(findings: Sequence[Finding]) -> dict[str, int]:
    return {severity.value: sum(f.rule.severity is severity for f in findings) for severity in Severity}


def report_text(*, snapshot: Snapshot, findings: Sequence[Finding]) -> str:
    d = snapshot.deployment
    where = "AWS" if snapshot.on_aws else "the sandbox"
    lines = [f"Auditing identity pool {d.identity_pool_id}, user pool {d.user_pool_id} and bucket {d.bucket} on {where}.", ""]
    for finding in findings:
        rule = finding.rule
        lines += [
            f"[{rule.severity.value.upper()}] {rule.id}: {rule.title}",
            f"  Resource: {finding.resource}",
            f"  What: {finding.what}",
            f"  Why:  {rule.why}",
            f"  Fix:  {rule.fix}",
            "",
        ]
    if findings:
        counts = ", ".join(f"{n} {severity}" for severity, n in _counts(findings).items() if n)
        noun = "problem" if len(findings) == 1 else "problems"
        lines.append(f"doctor: {len(findings)} {noun} found ({counts}).")
    else:
        lines.append(f"doctor: no problems found ({len(RULES)} rules checked).")
    return "\n".join(lines)


def report_json(*, snapshot: Snapshot, findings: Sequence[Finding]) -> str:
    d = snapshot.deployment
    return json.dumps(
        {
            "ok": not findings,
            "deployment": {
                "aws": "aws" if snapshot.on_aws else "local",
                "region": snapshot.region,
                "user_pool_id": d.user_pool_id,
                "app_client_id": d.app_client_id,
                "identity_pool_id": d.identity_pool_id,
                "bucket": d.bucket,
            },
            "counts": _counts(findings),
            "findings": [_finding_json(f) for f in findings],
        },
        indent=2,
    )
