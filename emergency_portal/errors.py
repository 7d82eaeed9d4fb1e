"""Error answers with the site's layout for pages, and RFC 9457 problem+json under /api/.

Django calls these for errors no view handled itself (handler403/404/500 in urls.py), and the
request-size middleware uses them for 413. The API's own views answer their errors themselves, and an
unknown path under /api/v1/ is answered by :func:`api_not_found` (the last pattern of the API's URLs):
with DEBUG on, Django answers an unmatched URL with its HTML debug page and never calls handler404.
"""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.template import loader
from django.template.response import TemplateResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt

from calls.problems import problem_response

API_PREFIX = "/api/"

security_log = logging.getLogger("security")
logger = logging.getLogger(__name__)


def is_api(path: str) -> bool:
    return path == API_PREFIX.rstrip("/") or path.startswith(API_PREFIX)


def page_or_problem(
    request: HttpRequest, status: int, title: str, detail: str, template: str
) -> HttpResponse:
    if is_api(request.path):
        return problem_response(status, detail, title=title)
    context = {"title": title, "detail": detail, "status": status}
    return TemplateResponse(request, template, context, status=status).render()


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return page_or_problem(request, 400, "Bad request", "The request could not be understood.", "400.html")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    user = getattr(request, "user", None)
    who = user.get_username() if user is not None and user.is_authenticated else "anonymous"
    reason = str(exception) if exception is not None and str(exception) else "not allowed"
    # Who, what, when (the log line's time): an authorisation failure is a security event.
    security_log.warning(
        "authorisation refused: user=%s method=%s path=%s ip=%s reason=%s",
        who, request.method, request.path, request.META.get("REMOTE_ADDR", "?"), reason,
    )
    return page_or_problem(request, 403, "Forbidden", reason, "403.html")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return page_or_problem(
        request, 404, "Not found", "There is nothing at this address, or you may not see it.", "404.html"
    )


@csrf_exempt  # it changes nothing: a POST to a wrong address hears "not found", not a CSRF refusal
@login_not_required  # an unknown address is unknown to everyone; the API's views check who asks
def api_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """An API path that names nothing: a problem+json 404 in every mode. A path that only lacks its
    trailing slash is sent on with 308 (method and body kept), as the unversioned paths are."""
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path_info + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(request.path + "/" + (f"?{query}" if query else ""),
                                                 preserve_request=True)
    return problem_response(404, f"There is no API endpoint at {request.path}; the endpoints are listed at "
                            "/api/v1/docs/.", title="Not found")


def server_error(request: HttpRequest) -> HttpResponse:
    """No context processors and no database: whatever broke the request must not break this."""
    detail = "Something went wrong on our side; it has been logged. Your data is safe."
    if is_api(request.path):
        return problem_response(500, detail, title="Internal server error")
    try:
        html = loader.get_template("500.html").render({"title": "Server error", "detail": detail})
    except Exception:  # e.g. a missing static manifest entry: still answer something readable
        logger.exception("The 500 page itself failed to render")
        html = f"<!doctype html><title>Server error</title><h1>Server error</h1><p>{detail}</p><a href='/'>Back</a>"
    return HttpResponse(html, status=500)
