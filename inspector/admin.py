"""Read-only "Who got which role": each issue of credentials the audit trail
recorded (the person, the identity ID), joined with the sandbox's
CloudTrail-style trail on the identity ID and the access key (the role the
calls ran as, how many S3 calls, how many denied). CloudTrail alone shows
the identity ID and the key, never the person; the audit trail alone shows
the person, never what the credentials did."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ImproperlyConfigured
from django.contrib.admin.views.main import ChangeList
from django.http import HttpRequest

from accounts.models import AuditEvent
from core.deployment import deployment_get
from inspector import services
from inspector.models import RoleGrant


@admin.register(RoleGrant)
class RoleGrantAdmin(admin.ModelAdmin):
    list_display = ("line",)
    list_filter = ("authenticated",)
    search_fields = ("sub", "identity_id", "user__email")
    date_hierarchy = "created_at"
    list_per_page = 50

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).filter(outcome=AuditEvent.Outcome.ISSUED).select_related("user")

    def get_changelist(self, request: HttpRequest, **kwargs):
        return GrantChangeList

    @admin.display(description="Who got which role")
    def line(self, obj: RoleGrant) -> str:
        grant = getattr(obj, "grant", None)
        return grant.line if grant else str(obj)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _deployment():
    try:
        return deployment_get()
    except ImproperlyConfigured:  # not provisioned: the audit rows are listed all the same
        return None


class GrantChangeList(ChangeList):
    """The page's rows, each with its join: one trail read per page, from
    the oldest row on, rather than one per row."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        rows = list(self.result_list)
        since = min((row.created_at for row in rows), default=None)
        trail = services.trail_read(since=since - services.JOIN_WINDOW if since else None)
        for grant in services.role_grants(events=rows, trail=trail, deployment=_deployment()):
            grant.event.grant = grant
        self.result_list = rows
        if rows and not trail.available:
            messages.warning(request, "The sandbox's trail is not available (on AWS, read CloudTrail), so roles and calls are not shown.")
