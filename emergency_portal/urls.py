from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

admin.site.site_header = "112 Triage administration"

urlpatterns = [
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("calls.api_urls")),
    path("api/schema/", login_not_required(SpectacularAPIView.as_view()), name="api_schema"),
    path("analysis/", include("analysis.urls")),
    path("audits/", include("audits.urls")),
    path("learning/", include("learning.urls")),
    path("", include("calls.urls")),
]
