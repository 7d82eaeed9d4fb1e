"""The API's documentation pages in a real browser, under the portal's Content Security Policy."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(
    `${e.violatedDirective} ${e.blockedURI} ${(e.sample || "").slice(0, 60)}`));
"""


def test_the_swagger_ui_docs_page_renders_without_a_csp_violation(browser, live):
    context = browser.new_context(base_url=live.url)
    try:
        page = context.new_page()
        page.add_init_script(RECORD_VIOLATIONS)
        console = []
        page.on("console", lambda message: console.append(message.text))
        response = page.goto("/api/v1/docs/")
        assert response is not None and response.status == 200
        page.wait_for_selector(".opblock-tag", timeout=20_000)  # the operations, read from the schema
        assert "cases" in page.inner_text("#swagger-ui")
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(250, 250, 250)"
        # Open an operation and its example: Swagger UI draws the schema's example values.
        page.click("#operations-cases-cases_create .opblock-summary")
        page.wait_for_selector("#operations-cases-cases_create .model-example", timeout=10_000)
        page.click("#operations-cases-cases_retrieve .opblock-summary")
        example = page.inner_text("#operations-cases-cases_retrieve .responses-wrapper")
        assert '"28.613939"' in example and "96044" in example and '"-"' not in example, example[:2000]
        page.wait_for_timeout(500)
        violations = page.evaluate("window.__violations")
        print(violations, console)
        assert violations == [], violations
        assert not [line for line in console if "Content Security Policy" in line], console
    finally:
        context.close()


def test_the_redoc_page_renders_with_inline_styles_allowed_there_alone(browser, live):
    context = browser.new_context(base_url=live.url)
    try:
        page = context.new_page()
        page.add_init_script(RECORD_VIOLATIONS)
        response = page.goto("/api/v1/redoc/")
        assert response is not None and response.status == 200
        assert "'unsafe-inline'" in response.headers["content-security-policy"].split("style-src ")[1].split(";")[0]
        page.wait_for_selector("text=Push calls in", timeout=20_000)  # the schema's description, rendered
        assert "Something went wrong" not in page.inner_text("body")
        page.wait_for_timeout(500)
        # Only Redoc's own "by Redocly" logo from its CDN is refused (the portal loads nothing from other sites).
        violations = [v for v in page.evaluate("window.__violations") if "cdn.redoc.ly" not in v]
        assert violations == [], violations
        docs = page.request.get("/api/v1/docs/")
        assert "'unsafe-inline'" not in docs.headers["content-security-policy"].split("style-src ")[1].split(";")[0]
    finally:
        context.close()
