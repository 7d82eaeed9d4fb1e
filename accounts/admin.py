from typing import Any, cast

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import User


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

