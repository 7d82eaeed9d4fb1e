"""Error answers with the site's layout for pages, and RFC 9457 problem+json under /api/.

Django calls these for errors no view handled itself (handler403/404/500 in urls.py), and the
request-size middleware uses them for 413. The API's own views answer their errors themselves.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.template.response import TemplateResponse

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
