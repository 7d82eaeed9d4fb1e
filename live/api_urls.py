"""Included by emergency_portal.api_urls under ``live/``."""

from django.urls import path

from . import api

urlpatterns = [
    path("calls/", api.LiveCallAnnounce.as_view(), name="live_call_announce"),
]
