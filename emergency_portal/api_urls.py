"""REST API v1: one URL conf over the apps' API views, its schema and its documentation pages."""

import csp.constants as csp
from csp.decorators import csp_update
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from analysis import api as analysis_api
from audits import api as audits_api
from calls import api as calls_api
from emergency_portal.errors import api_not_found

app_name = "api"

urlpatterns = [
    path("cases/", calls_api.CaseListCreate.as_view(), name="case_list"),
    path("cases/<int:pk>/", analysis_api.CaseDetail.as_view(), name="case_detail"),
    path("cases/<int:pk>/claim/", calls_api.CaseClaim.as_view(), name="case_claim"),
    path("cases/<int:pk>/release/", calls_api.CaseRelease.as_view(), name="case_release"),
    path("cases/<int:pk>/close/", calls_api.CaseClose.as_view(), name="case_close"),
    path("cases/<int:pk>/notes/", calls_api.CaseNotes.as_view(), name="case_notes"),
    path("cases/<int:pk>/recordings/", calls_api.CaseRecordings.as_view(), name="case_recordings"),
    path("live/", include("live.api_urls")),
    path("audits/", audits_api.AuditListCreate.as_view(), name="audit_list"),
    path("audits/items/", audits_api.AuditItemList.as_view(), name="audit_items"),
    path("models/", analysis_api.VersionList.as_view(), name="model_list"),
    path("models/<int:pk>/", analysis_api.VersionDetail.as_view(), name="model_detail"),
    path("models/<int:pk>/promote/", analysis_api.VersionPromote.as_view(), name="model_promote"),
    # The schema and its readers are public: they describe the API, not the data.
    path("schema/", login_not_required(SpectacularAPIView.as_view(api_version="v1")), name="schema"),
    # The split view serves its start-up script as a file and our template its page styles: the pages'
    # CSP allows no inline script or style sheet.
    path("docs/", login_not_required(SpectacularSwaggerSplitView.as_view(
        url_name="api:schema", template_name="api/swagger_ui.html")), name="docs"),
    # Redoc writes its styles as <style> elements from its script: this page alone may have inline styles
    # (still no inline script; it shows the schema, no data). The pages keep their CSP.
    path("redoc/", csp_update({"style-src": [csp.UNSAFE_INLINE]})(login_not_required(
        SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html"))), name="redoc"),
    # Last: any other path is a problem+json 404, with DEBUG on too (no HTML debug page under /api/).
    re_path(r"^(?P<rest>.*)$", api_not_found, name="not_found"),
]
