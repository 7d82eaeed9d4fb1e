"""Role checks, one place for pages (mixin, decorator) and the API (DRF permissions)."""

import logging
from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from rest_framework.permissions import BasePermission

from .models import Role

security_log = logging.getLogger("security")


def user_has_role(user, role: str) -> bool:
    return bool(user and user.is_authenticated and user.has_role(role))


class RoleRequiredMixin(AccessMixin):
    """Class-based views: anonymous users go to login, wrong roles get 403."""

    required_role: str = Role.OPERATOR

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not request.user.has_role(self.required_role):
            raise PermissionDenied(f"This page needs the {self.required_role} role.")
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]  # View's, via the MRO


def role_required(role: str):
    """Function views: same contract as RoleRequiredMixin."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect(f"/accounts/login/?next={request.path}")
            if not request.user.has_role(role):
                raise PermissionDenied(f"This page needs the {role} role.")
            return view(request, *args, **kwargs)

        wrapper.required_role = role  # type: ignore[attr-defined]  # a marker on the view function
        return wrapper

    return decorator


class _RolePermission(BasePermission):
    role: str = Role.OPERATOR
    message = "You do not have the role this endpoint needs."

    def has_permission(self, request, view) -> bool:
        allowed = user_has_role(request.user, self.role)
        if not allowed and request.user and request.user.is_authenticated:
            # Anonymous requests get 401 and are not worth a line each; a known user asking for
            # more than their role allows is a security event.
            security_log.warning(
                "authorisation refused: user=%s method=%s path=%s ip=%s reason=needs the %s role",
                request.user.get_username(), request.method, request.path,
                request.META.get("REMOTE_ADDR", "?"), self.role,
            )
        return allowed


class IsOperator(_RolePermission):
    role = Role.OPERATOR


class IsSupervisor(_RolePermission):
    role = Role.SUPERVISOR


class IsPortalAdmin(_RolePermission):
    role = Role.ADMIN


class ApiAuthentication:
    """For DRF views: they answer 401/403 as JSON themselves, so the login-page redirect of
    LoginRequiredMiddleware must not apply to them (put it first among the view's bases)."""

    @classmethod
    def as_view(cls, **initkwargs):
        return login_not_required(super().as_view(**initkwargs))  # type: ignore[misc]
