from django.conf import settings
from django.contrib.auth.views import redirect_to_login

# Paths anyone may reach: the login page, static files, the API (DRF answers 401/403
# itself, so that token clients get JSON, not a login page).
PUBLIC_PREFIXES = ("/accounts/login/", "/static/", "/api/", "/admin/")


class LoginRequiredMiddleware:
    """Deny by default: a page that forgets its own check still needs a login."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.user.is_authenticated and not request.path.startswith(PUBLIC_PREFIXES):
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        return self.get_response(request)
