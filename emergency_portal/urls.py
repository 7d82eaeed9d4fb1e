from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt

from emergency_portal import body_gate

admin.site.site_header = "112 Triage administration"


@login_not_required
def _favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on their own (pages name the SVG one in their head)."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


@csrf_exempt  # it only redirects; the v1 view it names checks everything
@login_not_required
def _to_v1(request: HttpRequest, rest: str) -> HttpResponse:
    """The unversioned paths of before v1: a 308 keeps the method and body of a POST."""
    query = request.META.get("QUERY_STRING", "")
    response = HttpResponse(status=308)
    response["Location"] = f"/api/v1/{rest}" + (f"?{query}" if query else "")
    return response


urlpatterns = [
    # Asked by the reverse proxy before it reads a request body (emergency_portal/body_gate.py).
    path("_gate/body/", body_gate.body_gate, name="body_gate"),
    path("favicon.ico", _favicon, name="favicon"),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("emergency_portal.api_urls")),
    re_path(r"^api/(?!v1/)(?P<rest>.*)$", _to_v1, name="api_unversioned"),
    path("analysis/", include("analysis.urls")),
    path("audits/", include("audits.urls")),
    path("learning/", include("learning.urls")),
    path("live/", include("live.urls")),
    path("", include("calls.urls")),
]

# Error pages with the site's layout; under /api/ RFC 9457 problem+json (emergency_portal.errors).
handler400 = "emergency_portal.errors.bad_request"
handler403 = "emergency_portal.errors.permission_denied"
handler404 = "emergency_portal.errors.page_not_found"
handler500 = "emergency_portal.errors.server_error"
