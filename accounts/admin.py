import logging
from typing import Any, cast

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from rest_framework.authtoken.models import TokenProxy
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from .api_keys import integration_client_create
from .models import ClientAPIKey, IntegrationClient, User

security_log = logging.getLogger("security")


class AdminRoleRequired:
    """ModelAdmin mixin: the portal's admin role, not Django's per-model permissions, decides."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.has_role("admin")

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request, *args):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_module_permission(request)


class ReadOnlyAdmin(AdminRoleRequired):
    """Admins may look, never change: every change goes through the portal's services, which lock,
    validate, record the change and tell the browsers. Django admin is no back door around them."""

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class PortalUserAdmin(AdminRoleRequired, UserAdmin):
    list_display = ("username", "get_full_name", "role", "is_active", "last_login")
    list_filter = ("role", "is_active")
    # UserAdmin.fieldsets is a tuple; the stubs only know ModelAdmin's optional type.
    fieldsets = cast(tuple[Any, ...], UserAdmin.fieldsets) + (("Portal role", {"fields": ("role",)}),)
    add_fieldsets = UserAdmin.add_fieldsets + (("Portal role", {"fields": ("role",)}),)

    def get_readonly_fields(self, request, obj=None):
        """Django's own powers (superuser, staff, groups, permissions) are not the portal's to hand
        out: only a superuser changes them. Nobody changes their own role."""
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["is_superuser", "is_staff", "groups", "user_permissions"]
        if obj is not None and obj.pk == request.user.pk:
            fields += ["role", "is_active"]
        return fields

    def save_model(self, request, obj, form, change):
        """Role and power changes are written to the security log with who made them (and Django's
        admin history keeps the form's change message)."""
        changed = [name for name in ("role", "is_active", "is_superuser", "is_staff") if name in form.changed_data]
        super().save_model(request, obj, form, change)
        if changed or not change:
            security_log.info("user %s: %s by %s", obj.get_username(),
                              ", ".join(f"{name}={getattr(obj, name)}" for name in changed) or "created",
                              request.user.get_username())


# Nobody mints an API token for someone else through the admin (the token would act as them).
if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)

# Login failures and lockouts are security records: looked at, never edited or deleted here.
for _model in (AccessAttempt, AccessLog, AccessFailureLog):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(AccessAttempt, AccessLog, AccessFailureLog)
class LoginRecordAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    pass



# The package's own key model is not used: keys here belong to an integration client (ClientAPIKey).
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


@admin.register(IntegrationClient)
class IntegrationClientAdmin(AdminRoleRequired, admin.ModelAdmin):
    """Adding a client makes its intake user too (through the service); a client is never deleted."""

    list_display = ("name", "user", "created_by", "created_at")
    fields = ("name",)

    def has_change_permission(self, request, obj=None):
        return obj is None and self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        created = integration_client_create(admin=request.user, name=obj.name)
        obj.pk, obj.user, obj.created_by, obj.created_at = created.pk, created.user, created.created_by, created.created_at


@admin.register(ClientAPIKey)
class ClientAPIKeyAdmin(AdminRoleRequired, APIKeyModelAdmin):
    """The key is shown once, when made; the list shows its prefix, expiry and whether it is revoked."""

    list_display = ("prefix", "name", "client", "created", "expiry_date", "_has_expired", "revoked")  # type: ignore[assignment]
    list_filter = ("client", "revoked")  # type: ignore[assignment]

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the prefix stays, so logs that name it can still be read
