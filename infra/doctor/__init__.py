"""`manage.py doctor`: audit a live deployment for the well-known traps of the
user pool + identity pool pattern, and never miss one.

Read top to bottom:
- `rules`: every rule doctor knows: id, severity, why it matters, the fix;
- `snapshot`: reading the live deployment once, through `infra.aws` only;
- `probes`: the requests doctor asks IAM about, evaluated with `iampolicy`
  in audit mode, which counts what it cannot decide as possibly allowed;
- `checks`: judging the snapshot, rule by rule (pure: no AWS calls);
- `report`: the text and `--json` outputs.

https://docs.aws.amazon.com/cognito/latest/developerguide/identity-pools-security-best-practices.html
"""

from infra.doctor.checks import deployment_audit, writable_claims
from infra.doctor.report import report_json, report_text
from infra.doctor.rules import RULES, Finding, Rule, Severity
from infra.doctor.snapshot import Role, Snapshot, deployment_inspect

__all__ = [
    "RULES",
    "Finding",
    "Role",
    "Rule",
    "Severity",
    "Snapshot",
    "deployment_audit",
    "deployment_inspect",
    "report_json",
    "report_text",
    "writable_claims",
]
