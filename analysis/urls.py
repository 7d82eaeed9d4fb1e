from django.urls import path

from . import views

app_name = "analysis"

urlpatterns = [
    path("cases/<int:pk>/panel/", views.case_panel, name="case_panel"),
    path("cases/<int:pk>/priority/", views.priority_override, name="priority_override"),
    path("triage-settings/", views.triage_settings, name="triage_settings"),
    path("triage-settings/compare/", views.triage_settings_compare, name="triage_settings_compare"),
    path("triage-settings/<int:version>/restore/", views.triage_settings_restore, name="triage_settings_restore"),
]
