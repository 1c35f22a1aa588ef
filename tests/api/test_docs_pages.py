"""Row 7 of the hardening issue: /docs and /redoc render from files installed with the project, under
the pages' CSP, in a real browser; the web page keeps the write token in sessionStorage."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from conf.settings import Settings
from tests.support.browser import Browser
from vigie.api.app import create_app
from vigie.api.routes.pages import CONTENT_SECURITY_POLICY, STATIC
from vigie.services.processes import free_port


@pytest.fixture()
def base_url(tmp_path: Path) -> Iterator[str]:
    """The API on a free port in a thread (no Redis or Elasticsearch needed for these pages)."""
    settings = Settings(home=tmp_path, api_port=free_port(), redis_url=f"redis://127.0.0.1:{free_port()}/0",
                        es_url=f"http://127.0.0.1:{free_port()}")
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=settings.api_port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{settings.api_port}"
    server.should_exit = True
    thread.join(10)


def test_docs_pages_use_only_installed_files_under_the_pages_csp(base_url: str) -> None:
    for path in ("/docs", "/redoc"):
        page = httpx.get(base_url + path)
        assert page.status_code == 200 and page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sources and all(source.startswith("/") for source in sources), sources  # no CDN
        for source in sources:
            assert httpx.get(base_url + source).status_code == 200, source
        assert "<script>" not in page.text  # nothing inline: the CSP forbids it


def test_swagger_ui_and_redoc_render_offline_in_a_browser(base_url: str) -> None:
    browser = Browser()
    try:
        browser.get(base_url + "/docs")
        assert "Vigie" in browser.text(browser.wait_for("#swagger-ui .info .title", timeout=60))
        assert browser.find_all("#swagger-ui .opblock")  # the operations are listed
        browser.get(base_url + "/redoc")
        assert "Vigie" in browser.text(browser.wait_for("redoc h1", timeout=60))
    finally:
        browser.quit()


def test_the_web_page_keeps_the_token_out_of_local_storage() -> None:
    scripts = "\n".join(path.read_text(encoding="utf-8") for path in STATIC.glob("*.js"))
    assert "localStorage" not in scripts and "sessionStorage.setItem(TOKEN_KEY" in scripts
