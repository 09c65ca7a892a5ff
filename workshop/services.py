"""What `manage.py lab` does, as plain functions: which lab is applied,
applying and reverting one, running its attack, and `check`, the whole
round trip a lab's test makes too.

Only one lab at a time: each lab's attack and doctor's finding are about one
misconfiguration, and two applied at once would make "doctor names it" and
"revert fixes it" claims about a mix. Applying a second lab is refused,
naming the first and its revert command.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.aws import SANDBOX_ADMIN_KEYS, endpoint_url
from core.deployment import Deployment, deployment_get
from infra.doctor import deployment_audit, deployment_inspect
from workshop.base import AttackResult, Lab, Report
from workshop.outsider import AttackStepFailed, Outsider
from workshop.record import applied_lab_number, applied_lab_record
from workshop.registry import LABS


class LabRefused(Exception):
    """The command cannot do this (unknown lab, another lab applied); the message is for people."""


class AttackCouldNotRun(Exception):
    """A step before the attack itself failed, so it neither succeeded nor was refused."""


@dataclass(frozen=True)
class LabStatus:
    lab: Lab
    applied: bool


def revert_command(number: int) -> str:
    return f"python manage.py lab revert {number}"


def lab_get(*, number: int) -> Lab:
    try:
        return LABS[number]
    except KeyError:
        known = ", ".join(str(n) for n in LABS) or "none"
        raise LabRefused(f"There is no lab {number}; the labs are {known} (python manage.py lab list).") from None


def banner_text(lab: Lab) -> str:
    """What every page's banner says while `lab` is applied."""
    return f"Lab {lab.number} is applied: {lab.title}. Revert with: {revert_command(lab.number)}"


_CULPRIT_SID = re.compile(r'^Statement "([^"]+)"')


def applied_lab() -> Lab | None:
    """The lab the record names for this deployment (no AWS call: the banner
    and the inspector ask on every page; never an error, a page must render)."""
    try:
        pool = deployment_get().identity_pool_id
    except ImproperlyConfigured:
        return None  # nothing provisioned: no lab either
    number = applied_lab_number(identity_pool_id=pool)
    return LABS.get(number) if number is not None else None


def lab_summary(lab: Lab | None) -> dict[str, Any] | None:
    """What the inspector's script needs to point at the culprit: a culprit
    that starts `Statement "<Sid>"` names the statement its explanations mark."""
    if lab is None:
        return None
    found = _CULPRIT_SID.match(lab.culprit)
    return {
        "number": lab.number,
        "title": lab.title.rstrip("."),
        "rule": lab.rule,
        "culprit": lab.culprit.strip().rstrip("."),  # the pages end the sentence themselves
        "sid": found.group(1) if found else None,
    }


def labs_status(*, deployment: Deployment | None = None) -> list[LabStatus]:
    """Every lab, with whether the live deployment has its misconfiguration."""
    deployment = deployment or deployment_get()
    return [LabStatus(lab=lab, applied=lab.applied(deployment=deployment)) for lab in LABS.values()]


def _other_applied(*, lab: Lab, deployment: Deployment) -> Lab | None:
    """Another lab recorded or found applied in the live deployment."""
    recorded = applied_lab_number(identity_pool_id=deployment.identity_pool_id)
    if recorded is not None and recorded != lab.number and recorded in LABS:
        return LABS[recorded]
    return next((o for o in LABS.values() if o.number != lab.number and o.applied(deployment=deployment)), None)


def lab_apply(*, number: int, report: Report) -> Lab:
    lab = lab_get(number=number)
    deployment = deployment_get()
    other = _other_applied(lab=lab, deployment=deployment)
    if other is not None:
        raise LabRefused(
            f"Lab {other.number} ({other.title}) is applied; labs do not stack, one at a time. "
            f"Revert it first: {revert_command(other.number)}"
        )
    lab.apply(deployment=deployment, report=report)
    applied_lab_record(lab.number, identity_pool_id=deployment.identity_pool_id)
    report(f"Lab {lab.number} is applied: {lab.title}. Attack it: python manage.py lab attack {lab.number}")
    return lab


def lab_revert(*, number: int, report: Report) -> Lab:
    lab = lab_get(number=number)
    deployment = deployment_get()
    lab.revert(deployment=deployment, report=report)
    if applied_lab_number(identity_pool_id=deployment.identity_pool_id) in (lab.number, None):
        applied_lab_record(None)
    report(f"Lab {lab.number} is reverted: the deployment is as provisioning sets it.")
    return lab


def outsider_for(*, app_url: str, report: Report) -> Outsider:
    """An attacker who reaches the app at `app_url` and AWS where the app's
    pages send browsers (the sandbox locally)."""
    return Outsider(
        app_url=app_url.rstrip("/"),
        endpoint=endpoint_url("s3", browser=True),
        region=settings.AWS_REGION,
        report=report,
        own_account_keys=dict(SANDBOX_ADMIN_KEYS) if settings.PHOTOSHARE_AWS == "local" else None,
        remembered=Path(settings.PHOTOSHARE_LABS_FILE).with_name("labs-sessions.json"),
    )


def lab_attack(*, number: int, app_url: str, report: Report) -> AttackResult:
    lab = lab_get(number=number)
    outsider = outsider_for(app_url=app_url, report=report)
    try:
        result = lab.attack(outsider=outsider)
    except AttackStepFailed as exc:
        raise AttackCouldNotRun(str(exc)) from exc
    except ClientError as exc:  # a setup step, not the attack's own request
        error = exc.response.get("Error", {})
        raise AttackCouldNotRun(f"{exc.operation_name} failed: {error.get('Code')}: {error.get('Message')}") from exc
    except OSError as exc:  # requests' and botocore's connection errors
        raise AttackCouldNotRun(f"could not reach the app at {app_url} or AWS: {exc}") from exc
    if result.succeeded:
        report(f"Attack on lab {lab.number} SUCCEEDED.")
    else:
        report(f"Attack on lab {lab.number} was REFUSED: {result.error_code}: {result.error_message}")
    return result


def doctor_rules(*, deployment: Deployment | None = None) -> set[str]:
    """The rule ids `doctor` reports for the live deployment."""
    snapshot = deployment_inspect(deployment=deployment or deployment_get())
    return {finding.rule.id for finding in deployment_audit(snapshot=snapshot)}


def lab_check(*, number: int, app_url: str, report: Report) -> list[str]:
    """Apply, attack, doctor, revert, attack, doctor; what did not hold ([] verified).
    The lab is reverted at the end whatever happened."""
    lab = lab_get(number=number)
    failed: list[str] = []
    before = doctor_rules()
    report(f"== apply lab {number}")
    lab_apply(number=number, report=report)
    try:
        report(f"== attack lab {number} (expect it to succeed)")
        if not lab_attack(number=number, app_url=app_url, report=report).succeeded:
            failed.append("the attack was refused while the lab was applied")
        report(f"== doctor (expect {lab.rule})")
        found = doctor_rules()
        if lab.rule not in found:
            reported = ", ".join(sorted(found)) or "nothing"
            failed.append(f"doctor did not report {lab.rule} while the lab was applied (it reported: {reported})")
        else:
            report(f"doctor reports {lab.rule}")
    finally:
        report(f"== revert lab {number}")
        lab_revert(number=number, report=report)
    report(f"== attack lab {number} again (expect it to be refused)")
    if lab_attack(number=number, app_url=app_url, report=report).succeeded:
        failed.append("the attack still succeeded after the revert")
    report("== doctor again")
    after = doctor_rules()
    if lab.rule in after:
        failed.append(f"doctor still reports {lab.rule} after the revert")
    if after - before:
        failed.append(f"doctor reports rules it did not before the lab: {', '.join(sorted(after - before))}")
    return failed
