"""Who signed in (keyed on the user-pool `sub`) and every credential issued."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A Django user mirrored from the user pool.

    `username` is the user-pool `sub` (stable; the email can change).
    `identity_id` is the identity pool's ID for this user (`us-east-1:…`),
    fetched once with `GetId` and reused: it is the
    `${cognito-identity.amazonaws.com:sub}` that scopes their S3 prefix.

    A person who signs in with an OpenID Connect provider (accounts.oidc) is
    keyed on (`oidc_issuer`, `oidc_subject`), the token's `iss` and `sub`,
    and never on their email: two providers may both vouch for one address,
    and only the pair names one person. Empty for everyone else."""

    identity_id = models.CharField(max_length=64, blank=True, db_index=True)
    oidc_issuer = models.CharField("OpenID Connect issuer", max_length=255, blank=True)
    oidc_subject = models.CharField("OpenID Connect sub", max_length=255, blank=True)

    class Meta(AbstractUser.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["oidc_issuer", "oidc_subject"],
                condition=~models.Q(oidc_subject=""),
                name="accounts_user_one_per_oidc_subject",
            )
        ]

    @property
    def cognito_sub(self) -> str:
        return self.username


class AuditEvent(models.Model):
    """One credential issuance or refusal, or a moderator's take-down.
    Cognito's own trail (CloudTrail) shows only `AssumeRoleWithWebIdentity`,
    not which person asked."""

    class Outcome(models.TextChoices):
        ISSUED = "issued"
        REFUSED = "refused"
        TAKEN_DOWN = "taken_down"  # `user` took down the photo `detail` names

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    sub = models.CharField("user-pool sub", max_length=64, blank=True)
    identity_id = models.CharField(max_length=64, blank=True)
    provider = models.CharField(max_length=200, blank=True)
    authenticated = models.BooleanField()
    expiration = models.DateTimeField(null=True, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    error_code = models.CharField(max_length=100, blank=True)
    detail = models.CharField(max_length=700, blank=True)  # what a moderator acted on, and why

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        who = self.sub or "guest"
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.outcome} {who} {self.identity_id}"


class OutboxMessage(models.Model):
    """An email the app itself sent while EMAIL_BACKEND is
    accounts.outbox.OutboxBackend (local development): kept here instead of
    delivered, and listed at /accounts/outbox/ with the sandbox's Cognito emails."""

    sent_at = models.DateTimeField(auto_now_add=True, db_index=True)
    to = models.TextField()  # comma-separated recipients
    subject = models.CharField(max_length=300)
    body = models.TextField()

    class Meta:
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"{self.sent_at:%Y-%m-%d %H:%M:%S} to {self.to}: {self.subject}"


class UsedSignInLink(models.Model):
    """The id of an emailed sign-in link that has been used. A link is
    signed, so the server keeps nothing when it sends one; what makes it
    single-use is this row, whose INSERT succeeds once per link id (the
    primary key), however many requests follow the link at the same moment."""

    link_id = models.CharField(max_length=32, primary_key=True)
    used_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.link_id} used {self.used_at:%Y-%m-%d %H:%M:%S}"
