"""Per-client API throttles on the shared cache (Redis when there is one): each integration client,
each user and each anonymous address has its own budget; over it, 429 with Retry-After."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import Role


class ClientRateThrottle(SimpleRateThrottle):
    """The rate comes from settings.API_THROTTLE_RATES (read per request, so tests and operators can
    change it): "intake" for integration clients, "user" for the pages' users, "anon" by address."""

    def get_rate(self) -> str | None:
        return None  # chosen per request in allow_request

    def allow_request(self, request: Any, view: Any) -> bool:
        user = request.user
        if user and user.is_authenticated:
            self.scope = "intake" if user.role == Role.INTAKE else "user"
            ident = str(user.pk)
        else:
            self.scope, ident = "anon", self.get_ident(request)
        self.rate = settings.API_THROTTLE_RATES.get(self.scope)
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.key = self.cache_format % {"scope": self.scope, "ident": ident}
        return super().allow_request(request, view)

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        return self.key
