from django.urls import path

from . import views

app_name = "analysis"

urlpatterns = [
    path("cases/<int:pk>/priority/", views.priority_override, name="priority_override"),
    path("triage-settings/", views.triage_settings, name="triage_settings"),
]
