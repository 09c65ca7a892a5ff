from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import AuditEvent, User


@admin.register(User)
class PhotoshareUserAdmin(UserAdmin):
    list_display = ("email", "username", "identity_id", "is_staff", "last_login")
    search_fields = ("email", "username", "identity_id", "oidc_subject")
    fieldsets = (
        *UserAdmin.fieldsets,
        ("Cognito", {"fields": ("identity_id",)}),
        ("OpenID Connect (SSO)", {"fields": ("oidc_issuer", "oidc_subject")}),
    )
    # Who the provider says they are: changing it would hand the account to another person.
    readonly_fields = ("oidc_issuer", "oidc_subject")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: an audit trail that can be edited is not one."""

    list_display = ("created_at", "outcome", "authenticated", "sub", "identity_id", "client_ip", "error_code")
    list_filter = ("outcome", "authenticated", "error_code")
    search_fields = ("sub", "identity_id", "client_ip")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
