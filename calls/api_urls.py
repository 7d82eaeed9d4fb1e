from django.urls import path

from . import api

app_name = "api"

urlpatterns = [
    path("cases/", api.CaseListCreate.as_view(), name="case_list"),
    path("cases/<int:pk>/", api.CaseDetail.as_view(), name="case_detail"),
    path("cases/<int:pk>/claim/", api.CaseClaim.as_view(), name="case_claim"),
    path("cases/<int:pk>/release/", api.CaseRelease.as_view(), name="case_release"),
    path("cases/<int:pk>/close/", api.CaseClose.as_view(), name="case_close"),
    path("cases/<int:pk>/notes/", api.CaseNotes.as_view(), name="case_notes"),
    path("cases/<int:pk>/recordings/", api.CaseRecordings.as_view(), name="case_recordings"),
]
