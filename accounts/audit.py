"""The audit trail: every credential issued or refused, in the database (for
the admin) and in the log (for whoever ships logs)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.http import HttpRequest

from accounts.models import AuditEvent
from core.http import client_address

log = logging.getLogger("photoshare.audit")

USER_AGENT_MAX = 300  # characters kept of the User-Agent header


def audit_record(
    *,
    request: HttpRequest,
    outcome: str,
    user: Any = None,
    authenticated: bool,
    identity_id: str = "",
    provider: str = "",
    expiration: dt.datetime | None = None,
    error_code: str = "",
) -> AuditEvent:
    """`user` names who asked when the request no longer does (a failed
    refresh signs the user out before the refusal is recorded)."""
    if user is None and request.user.is_authenticated:
        user = request.user
    event = AuditEvent.objects.create(
        user=user,
        sub=user.username if user else "",
        identity_id=identity_id,
        provider=provider if authenticated else "",
        authenticated=authenticated,
        expiration=expiration,
        # X-Forwarded-For only as far as TRUSTED_PROXY_COUNT says: a proxy header
        # is trivially forged unless the proxy is known.
        client_ip=client_address(request) or None,
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX],
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
