from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from rest_framework_api_key.models import AbstractAPIKey


class Role(models.TextChoices):
    OPERATOR = "operator", "Operator"
    SUPERVISOR = "supervisor", "Supervisor"
    ADMIN = "admin", "Admin"
    # A telephony system or other integration client, never a person: it may create cases and append
    # audio to the cases it created, and nothing else (outside the ranks below).
    INTAKE = "intake", "Intake client"


# Each role can do everything the roles before it can.
ROLE_RANK: dict[str, int] = {Role.OPERATOR: 1, Role.SUPERVISOR: 2, Role.ADMIN: 3}


class User(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.OPERATOR)

    def has_role(self, role: str) -> bool:
        """True when the user is active and at least `role` (admin > supervisor > operator)."""
        if role == Role.INTAKE:
            return self.is_active and self.role == Role.INTAKE
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


class IntegrationClient(models.Model):
    """A system that pushes calls in (a call centre's phone system): it acts through a user of role
    "intake" of its own, so every case and event it creates names it, and authenticates with API keys."""

    name = models.CharField(max_length=100, unique=True)
    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="integration_client")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class ClientAPIKey(AbstractAPIKey):
    """A key of an integration client: stored hashed; admins see its prefix, expiry and whether it is
    revoked (the key itself is shown once, when made)."""

    client = models.ForeignKey(IntegrationClient, on_delete=models.PROTECT, related_name="api_keys")

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "Client API key"
        verbose_name_plural = "Client API keys"
