from django.urls import path

from . import views

app_name = "audits"

urlpatterns = [
    path("", views.audit_queue, name="queue"),
    path("items/<int:pk>/", views.audit_item, name="item"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/<str:name>.png", views.dashboard_chart, name="dashboard_chart"),
    path("operations/", views.operations, name="operations"),
    path("operations/<str:name>.png", views.operations_chart, name="operations_chart"),
    path("export.zip", views.export, name="export"),
]
