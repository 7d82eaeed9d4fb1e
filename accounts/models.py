from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    OPERATOR = "operator", "Operator"
    SUPERVISOR = "supervisor", "Supervisor"
    ADMIN = "admin", "Admin"


# Each role can do everything the roles before it can.
ROLE_RANK: dict[str, int] = {Role.OPERATOR: 1, Role.SUPERVISOR: 2, Role.ADMIN: 3}


class User(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.OPERATOR)

    def has_role(self, role: str) -> bool:
        """True when the user is active and at least `role` (admin > supervisor > operator)."""
        return self.is_active and ROLE_RANK.get(self.role, 0) >= ROLE_RANK[Role(role)]

    @property
    def is_supervisor(self) -> bool:
        return self.has_role(Role.SUPERVISOR)

    @property
    def is_portal_admin(self) -> bool:
        return self.has_role(Role.ADMIN)

    def save(self, *args, **kwargs):
        # Portal admins manage users in the Django admin; nobody else gets in there.
        if not self.is_superuser:
            self.is_staff = self.role == Role.ADMIN
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return self.get_full_name() or self.username
