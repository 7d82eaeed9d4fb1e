"""REST API v1: one URL conf over the apps' API views, its schema and its documentation pages."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from analysis import api as analysis_api
from audits import api as audits_api
from calls import api as calls_api

app_name = "api"

urlpatterns = [
    path("cases/", calls_api.CaseListCreate.as_view(), name="case_list"),
    path("cases/<int:pk>/", analysis_api.CaseDetail.as_view(), name="case_detail"),
    path("cases/<int:pk>/claim/", calls_api.CaseClaim.as_view(), name="case_claim"),
    path("cases/<int:pk>/release/", calls_api.CaseRelease.as_view(), name="case_release"),
    path("cases/<int:pk>/close/", calls_api.CaseClose.as_view(), name="case_close"),
    path("cases/<int:pk>/notes/", calls_api.CaseNotes.as_view(), name="case_notes"),
    path("cases/<int:pk>/recordings/", calls_api.CaseRecordings.as_view(), name="case_recordings"),
    path("audits/", audits_api.AuditListCreate.as_view(), name="audit_list"),
    path("audits/items/", audits_api.AuditItemList.as_view(), name="audit_items"),
    path("models/", analysis_api.VersionList.as_view(), name="model_list"),
    path("models/<int:pk>/", analysis_api.VersionDetail.as_view(), name="model_detail"),
    path("models/<int:pk>/promote/", analysis_api.VersionPromote.as_view(), name="model_promote"),
    # The schema and its readers are public: they describe the API, not the data.
    path("schema/", login_not_required(SpectacularAPIView.as_view(api_version="v1")), name="schema"),
    # The split view serves its start-up script as a file: the pages' CSP allows no inline script.
    path("docs/", login_not_required(SpectacularSwaggerSplitView.as_view(url_name="api:schema")), name="docs"),
    path("redoc/", login_not_required(SpectacularRedocView.as_view(url_name="api:schema")), name="redoc"),
]
