"""The development outbox: a Django email backend that keeps each message
the app sends in the database (OutboxMessage) instead of sending it, and the
list /accounts/outbox/ shows, with the emails the sandbox's user pool kept.

Why the database, not Django's file or local-memory backends: the messages
must outlive a `runserver` reload and be visible to every process (the app,
`manage.py` commands), listed newest first and filtered by recipient like
the sandbox's outbox; and `make reset` already wipes the database with the
sandbox's data, so both outboxes empty together. On AWS, EMAIL_BACKEND is
Django's SMTP backend (Amazon SES's SMTP interface, for example)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

from accounts import cognito
from accounts.cognito import CognitoError
from accounts.models import OutboxMessage

SHOWN = 100  # messages of the app's own listed, newest first

SUBJECT_MAX = 300  # characters, OutboxMessage.subject


class OutboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            OutboxMessage.objects.create(
                to=", ".join(message.recipients()), subject=message.subject[:SUBJECT_MAX], body=message.body
            )
        return len(email_messages)


def outbox_list(*, to: str | None = None) -> tuple[list[dict[str, Any]], bool]:
    """Every kept email (to `to` only, if given), newest first, each with
    `sender` "Cognito" or "Photoshare"; and whether the sandbox answered."""
    try:
        found = [{**m, "sender": "Cognito"} for m in cognito.outbox_messages(to=to)]
        sandbox_answered = True
    except CognitoError:
        found, sandbox_answered = [], False
    own = OutboxMessage.objects.all()
    if to:
        own = own.filter(to__iexact=to)
    found += [
        {"to": m.to, "subject": m.subject, "body": m.body, "sent_at": m.sent_at.timestamp(), "sender": "Photoshare"}
        for m in own[:SHOWN]
    ]
    return sorted(found, key=lambda m: m.get("sent_at", 0), reverse=True), sandbox_answered
