"""The audit trail: every credential issued or refused, in the database (for
the admin) and in the log (for whoever ships logs)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from accounts.models import AuditEvent
from core.http import client_address

log = logging.getLogger("photoshare.audit")

USER_AGENT_MAX = 300  # characters kept of the User-Agent header


@dataclass(frozen=True)
class Requester:
    """Where a request came from, as the services need it: the client address
    (for rate limits and the trail) and the User-Agent (for the trail)."""

    address: str
    user_agent: str = ""

    @classmethod
    def of(cls, request: HttpRequest) -> Requester:
        # X-Forwarded-For only as far as TRUSTED_PROXY_COUNT says (core.http):
        # a proxy header is trivially forged unless the proxy is known.
        return cls(client_address(request), request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX])


def audit_record(
    *,
    requester: Requester,
    outcome: str,
    user: Any,
    authenticated: bool,
    identity_id: str = "",
    provider: str = "",
    expiration: dt.datetime | None = None,
    error_code: str = "",
) -> AuditEvent:
    """`user` is who asked (None for a guest)."""
    event = AuditEvent.objects.create(
        user=user,
        sub=user.username if user else "",
        identity_id=identity_id,
        provider=provider if authenticated else "",
        authenticated=authenticated,
        expiration=expiration,
        client_ip=requester.address or None,
        user_agent=requester.user_agent,
        outcome=outcome,
        error_code=error_code,
    )
    log.info(
        "credentials %s: user=%s sub=%s identity=%s authenticated=%s expiration=%s ip=%s error=%s",
        outcome,
        user.pk if user else "-",
        event.sub or "-",
        identity_id or "-",
        authenticated,
        expiration.isoformat() if expiration else "-",
        event.client_ip or "-",
        error_code or "-",
    )
    return event


def moderation_record(*, requester: Requester | None, moderator: Any, subject: str, reason: str) -> AuditEvent:
    """A moderator's take-down of `subject` (the photo), with the reason given."""
    requester = requester or Requester("")
    event = AuditEvent.objects.create(
        user=moderator,
        sub=moderator.username,
        identity_id=moderator.identity_id,
        authenticated=True,
        client_ip=requester.address or None,
        user_agent=requester.user_agent,
        outcome=AuditEvent.Outcome.TAKEN_DOWN,
        detail=f"{subject}: {reason}"[:700],
    )
    log.info("taken down: %s by user=%s sub=%s ip=%s reason=%r", subject, moderator.pk, moderator.username, event.client_ip or "-", reason)
    return event
