"""The admin's "Who got which role": the audit trail's issues of credentials
(a proxy: no table of its own), each joined with the sandbox's trail."""

from accounts.models import AuditEvent


class RoleGrant(AuditEvent):
    class Meta:
        proxy = True
        verbose_name = "role grant"
        verbose_name_plural = "Who got which role"
