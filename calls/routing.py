from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/queue/", consumers.QueueConsumer.as_asgi()),
    path("ws/cases/<int:pk>/", consumers.CaseConsumer.as_asgi()),
    path("ws/training/", consumers.TrainingJobsConsumer.as_asgi()),
]
