"""The web app's page and files, without a browser: served at `/`, only from this origin,
under a Content-Security-Policy with no inline code, while API routes keep theirs."""

from __future__ import annotations

import re

import pytest

from ckad_api import create_app
from ckad_api.web import CONTENT_SECURITY_POLICY, STATIC_DIR
from tests.conftest import settings_for

IMPORT = re.compile(r"""(?:^|\n)\s*import\s[^'"]*?from\s+['"]([^'"]+)['"]""")
URL = re.compile(r"""https?://[^\s'"`)<>]+""")
# The SVG and XHTML namespaces are names, not addresses that get fetched.
NAMESPACES = ("http://www.w3.org/2000/svg",)


@pytest.fixture(scope="module")
def client():
    app = create_app(settings_for("sqlite://"))
    yield app.test_client()
    app.extensions["ckad"].engine.dispose()


def test_the_app_is_served_at_root_with_a_strict_policy(client):
    with client.get("/") as page:
        assert page.status_code == 200
        assert page.mimetype == "text/html"
        csp = page.headers["Content-Security-Policy"]
        html = page.get_data(as_text=True)
    assert csp == CONTENT_SECURITY_POLICY
    for directive in ("script-src 'self'", "style-src 'self'", "connect-src 'self'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "http" not in csp
    # No inline script or style: every <script> has a src, no <style>, no style="".
    assert re.findall(r"<script\b[^>]*>", html) == ['<script type="module" src="/web/js/app.js">']
    assert "<style" not in html and "style=" not in html
    assert "onclick=" not in html.lower()


def test_api_and_docs_keep_their_own_policies(client):
    with client.get("/healthz") as health:
        assert health.headers["Content-Security-Policy"] == (
            "default-src 'none'; frame-ancestors 'none'"
        )
    with client.get("/docs") as docs:
        assert "unsafe-inline" in docs.headers["Content-Security-Policy"]


def test_every_module_the_app_imports_is_served(client):
    seen: set[str] = set()
    todo = ["/web/js/app.js"]
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        with client.get(url) as response:
            assert response.status_code == 200, url
            assert response.mimetype in ("text/javascript", "application/javascript"), url
            assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
            source = response.get_data(as_text=True)
        base = url.rsplit("/", 1)[0]
        for target in IMPORT.findall(source):
            assert target.startswith("."), f"{url} imports {target} from outside the app"
            parts = base.split("/")
            for piece in target.split("/"):
                if piece == "..":
                    parts.pop()
                elif piece != ".":
                    parts.append(piece)
            todo.append("/".join(parts))
    assert len(seen) >= 10
    for name in ("app.css", "favicon.svg"):
        with client.get(f"/web/{name}") as response:
            assert response.status_code == 200, name


def test_nothing_is_loaded_from_another_host():
    for path in STATIC_DIR.rglob("*"):
        if path.suffix not in (".js", ".css", ".html", ".svg"):
            continue
        text = path.read_text()
        addresses = [u for u in URL.findall(text) if not u.startswith(NAMESPACES)]
        assert not addresses, f"{path.name} refers to {addresses}"
        assert "@import" not in text and "url(" not in text, path.name
        # Styles come from classes: an inline style attribute would be refused by the CSP.
        assert "setAttribute('style'" not in text and "style=" not in text, path.name


def test_an_unknown_file_is_a_problem_not_a_page(client):
    with client.get("/web/js/missing.js") as response:
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
