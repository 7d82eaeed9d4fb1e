from django.urls import path

from . import views

app_name = "calls"

urlpatterns = [
    path("", views.case_list, name="case_list"),
    path("queue/rows/", views.queue_rows, name="queue_rows"),
    path("cases/new/", views.case_create, name="case_create"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/claim/", views.case_claim, name="case_claim"),
    path("cases/<int:pk>/release/", views.case_release, name="case_release"),
    path("cases/<int:pk>/close/", views.case_close, name="case_close"),
    path("cases/<int:pk>/reassign/", views.case_reassign, name="case_reassign"),
    path("cases/<int:pk>/notes/", views.note_add, name="note_add"),
    path("cases/<int:pk>/recordings/", views.recording_add, name="recording_add"),
    path("recordings/<int:pk>/<str:which>/", views.recording_file, name="recording_file"),
]
