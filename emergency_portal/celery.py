"""Celery application: used only when CELERY_BROKER_URL is set (production, CI)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "emergency_portal.settings")

app = Celery("emergency_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
