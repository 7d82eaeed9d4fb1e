"""ASGI entry point: HTTP through Django, websockets through Channels.

Websockets are wrapped in AllowedHostsOriginValidator (refuses forged Origins: cross-site
websocket hijacking) and AuthMiddlewareStack (the session's user); each consumer checks roles.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "emergency_portal.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from calls.routing import websocket_urlpatterns  # noqa: E402
from emergency_portal.middleware import BodySizeLimitASGI  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Django's ASGI handler reads the whole body before any middleware: refuse a too-large one first.
        "http": BodySizeLimitASGI(django_asgi_app),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
