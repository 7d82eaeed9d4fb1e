"""Included by emergency_portal.urls under ``live/``."""

from django.urls import path

from . import views

app_name = "live"

urlpatterns = [
    path("desk/", views.desk, name="desk"),
]
