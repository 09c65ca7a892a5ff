"""What a lab is: the misconfiguration it applies and reverts, how it tells
whether the live deployment has it, and the attack an outsider then runs.

Every lab module (`workshop/labs/labNN.py`) defines one `LAB`; the registry
collects them, and `manage.py lab` and the banner only ever see this shape."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Report = Callable[[str], None]


@dataclass(frozen=True)
class AttackResult:
    succeeded: bool  # the attack obtained what it wanted
    obtained: tuple[str, ...] = ()  # what it got: stolen key names, the role ARN, ...
    error_code: str | None = None  # AWS's error code when refused (AccessDenied, NotAuthorizedException, ...)
    error_message: str | None = None


@dataclass(frozen=True)
class Lab:
    number: int
    slug: str  # "01-unscoped-private": the folder labs/<slug>/ with its README.md
    title: str
    rule: str  # the doctor rule id that names this misconfiguration
    apply: Callable[..., None]  # apply(*, deployment: Deployment, report: Report) -> None; idempotent
    revert: Callable[..., None]  # revert(*, deployment, report) -> None: restore exactly what provisioning sets
    applied: Callable[..., bool]  # applied(*, deployment) -> bool, read from the live deployment (admin calls)
    attack: Callable[..., AttackResult]  # attack(*, outsider: Outsider) -> AttackResult
    culprit: str = ""  # the policy statement / setting that makes the attack possible (shown by the inspector & banner)
