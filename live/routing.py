from django.urls import path

from . import consumers

STREAM_PATH = "/ws/live/stream/"  # phone systems (an API key; no Origin needed)
DESK_PATH = "/ws/live/desk/"  # operators' browsers (their session; same origin only)

# What machine clients reach without an Origin header (calls.ws_security.MachineClients).
machine_websocket_urlpatterns = [
    path(STREAM_PATH.strip("/") + "/", consumers.LiveStreamConsumer.as_asgi()),
]
# What the browsers' stack routes (same origin, session), the phone systems' path included.
websocket_urlpatterns = [
    *machine_websocket_urlpatterns,
    path(DESK_PATH.strip("/") + "/", consumers.DeskStreamConsumer.as_asgi()),
]
