"""ASGI entry point: HTTP through Django, websockets through Channels.

Websockets are wrapped in AllowedHostsOriginValidator and SameOriginValidator (refuse forged
Origins, other ports and schemes included: cross-site websocket hijacking) and AuthMiddlewareStack
(the session's user); each consumer checks roles; a path no consumer serves is closed (4404).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "emergency_portal.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import re_path  # noqa: E402

from calls.routing import websocket_urlpatterns  # noqa: E402
from calls.ws_security import MachineClients, NoSuchRoute, SameOriginValidator  # noqa: E402
from emergency_portal import daphne_forms  # noqa: E402
from emergency_portal.middleware import BodySizeLimitASGI  # noqa: E402
from live.routing import STREAM_PATH, machine_websocket_urlpatterns  # noqa: E402
from live.routing import websocket_urlpatterns as live_websocket_urlpatterns  # noqa: E402

# Twisted must not judge multipart bodies before Django does (emergency_portal/daphne_forms.py).
daphne_forms.install()

application = ProtocolTypeRouter(
    {
        # Django's ASGI handler reads the whole body before any middleware: refuse a too-large one first.
        "http": BodySizeLimitASGI(django_asgi_app),
        # Phone systems' live streams (no Origin: not a browser) authenticate by API key alone; an
        # operator's desk (live/desk/) is a browser, so it only ever goes through the browsers' checks.
        "websocket": MachineClients(
            AllowedHostsOriginValidator(SameOriginValidator(AuthMiddlewareStack(URLRouter(
                [*websocket_urlpatterns, *live_websocket_urlpatterns, re_path(r"", NoSuchRoute.as_asgi())])))),
            machine_app=URLRouter(machine_websocket_urlpatterns), paths={STREAM_PATH}),
    }
)
